using System.Text.Json;
using System.Text.Json.Serialization;

namespace Alpaca.Llm.IO.Exports;

/// <summary>One file of an export: its path relative to the output folder ('/'-separated), size and SHA-256 (hex).</summary>
public sealed record ExportedFile(string Path, long Size, string Sha256);

/// <summary>
/// What a fenced export confirmation records (<see cref="IExportFence.ConfirmAsync"/>): the generation folder that
/// keeps the export's files (<c>&lt;output&gt;/.exports/&lt;generation&gt;/</c>), the fencing token it was written
/// under, and every file with its size and SHA-256. The newest confirmed manifest is the truth about which files
/// belong in the output folder: a holder that renamed stale files into place after it, or a replica that takes the
/// work over, puts that generation back (<see cref="ExportFolder"/>), and a consumer can check a file against it.
/// </summary>
public sealed record ExportManifest(string Generation, long FencingToken, IReadOnlyList<ExportedFile> Files)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Who confirmed it (a replica id), when known.</summary>
    public string? Owner { get; init; }

    /// <summary>When it was confirmed.</summary>
    public DateTimeOffset? ConfirmedAt { get; init; }

    /// <summary>The entry of <paramref name="relativePath"/> ('/' or the platform's separator), or null.</summary>
    public ExportedFile? Find(string relativePath)
    {
        var key = relativePath.Replace('\\', '/');
        return Files.FirstOrDefault(f => f.Path == key);
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>
    /// The manifest in <paramref name="json"/>, or null when it holds none: absent, or a record written before
    /// confirmations carried manifests (no generation), which then names nothing to put back.
    /// </summary>
    public static ExportManifest? FromJson(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            return null;
        }

        try
        {
            var manifest = JsonSerializer.Deserialize<ExportManifest>(json, Json);
            return manifest is { Generation.Length: > 0, Files: not null } ? manifest : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
