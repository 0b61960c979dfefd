namespace Alpaca.Llm.SafeTensors;

/// <summary>A malformed safetensors file or sharded-checkpoint index; the message names file and field.</summary>
public sealed class SafeTensorsFormatException(string path, string field, string message)
    : Exception($"{path}: {field}: {message}")
{
    public string FilePath { get; } = path;

    public string Field { get; } = field;
}
