namespace Alpaca.Cli.Commands.Dedup;

/// <summary>Bad input: the message names the file and line; the command exits with code 2.</summary>
public sealed class InputException(string message) : Exception(message);
