namespace Alpaca.Generator.Seeds;

/// <summary>
/// Bad input given to the generator (a seed file, a prompt file, a stored run): the message names the
/// file, the line and the field so the user can fix it.
/// </summary>
public sealed class GeneratorInputException(string message) : Exception(message);
