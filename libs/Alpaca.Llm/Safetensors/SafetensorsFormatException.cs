namespace Alpaca.Llm.Safetensors;

/// <summary>
/// A malformed safetensors file or sharded-checkpoint index; the message names file and field. An
/// <see cref="IOException"/> (a file that cannot be read as what it claims to be), so the CLI and the
/// trainer's job checks report it as they report any other unreadable input.
/// </summary>
public sealed class SafetensorsFormatException(string path, string field, string message)
    : IOException($"{path}: {field}: {message}")
{
    public string FilePath { get; } = path;

    public string Field { get; } = field;
}
