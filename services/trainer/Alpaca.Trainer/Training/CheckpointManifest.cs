using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Alpaca.Llm.IO;

namespace Alpaca.Trainer.Training;

/// <summary>
/// <c>manifest.json</c> of a checkpoint: the name, size and SHA-256 of every other file in it. It is
/// written last (after every file is fsynced), atomically, so its presence and a match of every entry is
/// the one proof that the checkpoint is whole: a folder that a power loss truncated, a copy that stopped
/// half-way, or a checkpoint from before manifests all fail the check and are never resumed from.
/// </summary>
public static class CheckpointManifest
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>Hashes every file of <paramref name="directory"/> (fsyncing each) and writes the manifest durably.</summary>
    public static void Write(string directory)
    {
        var entries = new List<Entry>();
        foreach (var path in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name == FileName)
            {
                continue;
            }

            DurableFile.FlushFile(path);
            entries.Add(new Entry(name, new FileInfo(path).Length, Hash(path)));
        }

        DurableFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(new Document(entries), Options));
    }

    /// <summary>Null when <paramref name="directory"/> is a whole checkpoint holding <paramref name="required"/>; else why not.</summary>
    public static string? Problem(string directory, IReadOnlyCollection<string> required)
    {
        var manifestPath = Path.Combine(directory, FileName);
        if (!File.Exists(manifestPath))
        {
            return $"no {FileName} (the save never finished)";
        }

        Document? document;
        try
        {
            document = JsonSerializer.Deserialize<Document>(File.ReadAllText(manifestPath));
        }
        catch (JsonException e)
        {
            return $"{FileName} is not valid JSON: {e.Message}";
        }

        if (document?.Files is null)
        {
            return $"{FileName} lists no files";
        }

        var missing = required.Where(r => document.Files.All(f => f.Name != r)).ToList();
        if (missing.Count > 0)
        {
            return $"{FileName} does not list {string.Join(", ", missing)}";
        }

        foreach (var entry in document.Files)
        {
            var path = Path.Combine(directory, Path.GetFileName(entry.Name));
            if (!File.Exists(path))
            {
                return $"{entry.Name} is missing";
            }

            var size = new FileInfo(path).Length;
            if (size != entry.Size)
            {
                return $"{entry.Name} has {size} bytes, the manifest says {entry.Size}";
            }

            if (!string.Equals(Hash(path), entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return $"{entry.Name} does not match its SHA-256 in the manifest";
            }
        }

        return null;
    }

    private static string Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private sealed record Document([property: JsonPropertyName("files")] List<Entry> Files);

    private sealed record Entry(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("size")] long Size,
        [property: JsonPropertyName("sha256")] string Sha256);
}
