namespace Alpaca.Llm.Gguf;

/// <summary>
/// The one error a GGUF reader or writer raises for a malformed file. The message names the file,
/// the field and the byte offset where reading went wrong.
/// </summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException(string message, string field, long offset, string? path = null)
        : base($"{path ?? "GGUF"}: {field} at byte offset {offset}: {message}")
    {
        Field = field;
        Offset = offset;
        FilePath = path;
    }

    /// <summary>Which field was bad, e.g. <c>tensor_infos[3].ne[1]</c> or <c>kv["general.alignment"].value</c>.</summary>
    public string Field { get; }

    /// <summary>Byte offset in the file where the bad field starts.</summary>
    public long Offset { get; }

    public string? FilePath { get; }
}
