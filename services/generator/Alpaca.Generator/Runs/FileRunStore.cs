using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Alpaca.Generator.Export;
using Alpaca.Generator.Seeds;
using Alpaca.Llm.IO;
using Alpaca.Llm.IO.Exports;

namespace Alpaca.Generator.Runs;

/// <summary>
/// Runs in a local folder, one sub-folder per run:
/// <list type="bullet">
/// <item><c>spec.json</c>: the <see cref="SelfInstructRunSpec"/> (written once, before the checkpoint);</item>
/// <item><c>checkpoint.json</c>: replaced atomically (temp file, fsync, rename); its presence means the run exists;</item>
/// <item><c>kept.jsonl</c>: one kept record per line, appended and fsync'ed per round. A line torn by a crash
/// (no final newline) is cut off on the next load; its round is still pending and is replayed. Its creation is made
/// durable by an fsync of the run folder;</item>
/// <item><c>export.json</c>: the manifest of the last export put in place (<see cref="ExportManifest"/>).</item>
/// </list>
/// Every replace is temp file + fsync + rename + fsync of the folder (<see cref="AtomicFile"/>).
/// One process per run folder at a time.
/// </summary>
public sealed class FileRunStore(string root) : IRunStore
{
    private const string SpecFile = "spec.json";
    private const string CheckpointFile = "checkpoint.json";
    private const string KeptFile = "kept.jsonl";
    private const string ExportFile = "export.json";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    private static readonly JsonSerializerOptions JsonDoc = new(Json) { WriteIndented = true };

    public string Root { get; } = Path.GetFullPath(root);

    public string RunFolder(string runId) => Path.Combine(Root, runId);

    public Task<StoredRun?> LoadAsync(string runId, CancellationToken cancellationToken = default)
    {
        var dir = RunFolder(runId);
        var checkpointPath = Path.Combine(dir, CheckpointFile);
        if (!File.Exists(checkpointPath))
        {
            return Task.FromResult<StoredRun?>(null);
        }

        var spec = ReadJson<SelfInstructRunSpec>(Path.Combine(dir, SpecFile));
        var checkpoint = ReadJson<RunCheckpoint>(checkpointPath);
        var kept = ReadKept(Path.Combine(dir, KeptFile));
        return Task.FromResult<StoredRun?>(new StoredRun(spec, checkpoint, kept));
    }

    public Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        var dir = RunFolder(spec.RunId);
        Directory.CreateDirectory(dir);
        File.Delete(Path.Combine(dir, KeptFile));
        AtomicFile.WriteAllText(Path.Combine(dir, SpecFile), JsonSerializer.Serialize(spec, JsonDoc));
        AtomicFile.WriteAllText(Path.Combine(dir, CheckpointFile), JsonSerializer.Serialize(checkpoint, JsonDoc));
        return Task.CompletedTask;
    }

    /// <summary>One process owns a run folder (no leases here), so every export is confirmed: <c>export.json</c> records it durably.</summary>
    public Task ConfirmExportAsync(string runId, ExportManifest export, CancellationToken cancellationToken = default)
    {
        AtomicFile.WriteAllBytes(Path.Combine(RunFolder(runId), ExportFile), export.ToJson());
        return Task.CompletedTask;
    }

    public Task<ExportManifest?> LoadExportAsync(string runId, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(RunFolder(runId), ExportFile);
        return Task.FromResult(File.Exists(path) ? ExportManifest.FromJson(File.ReadAllBytes(path)) : null);
    }

    public Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        AtomicFile.WriteAllText(Path.Combine(RunFolder(runId), CheckpointFile), JsonSerializer.Serialize(checkpoint, JsonDoc));
        return Task.CompletedTask;
    }

    public async Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, CancellationToken cancellationToken = default)
    {
        if (records.Count == 0)
        {
            return;
        }

        var sb = new StringBuilder();
        foreach (var record in records)
        {
            sb.Append(JsonSerializer.Serialize(record, JsonLine)).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(sb.ToString());

        // One write and one fsync per round: the round's records reach the disk together or are replayed.
        var path = Path.Combine(RunFolder(runId), KeptFile);
        var created = !File.Exists(path);
        await using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            await stream.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        if (created)
        {
            // The file's name is an entry of the folder: without this a power loss could lose the whole log.
            DurableFile.FlushDirectory(RunFolder(runId));
        }
    }

    public Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> ids = Directory.Exists(Root)
            ? Directory.EnumerateDirectories(Root)
                .Where(d => File.Exists(Path.Combine(d, CheckpointFile)))
                .Select(Path.GetFileName)
                .OfType<string>()
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return Task.FromResult(ids);
    }

    private static T ReadJson<T>(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json)
                ?? throw new GeneratorInputException($"{path}: empty document.");
        }
        catch (JsonException e)
        {
            throw new GeneratorInputException($"{path}: unreadable run state ({e.Message}).");
        }
        catch (FileNotFoundException)
        {
            throw new GeneratorInputException($"{path} is missing: the run folder is incomplete.");
        }
    }

    /// <summary>Reads the kept log, cutting off a final line torn by a crash.</summary>
    private static List<KeptRecord> ReadKept(string path)
    {
        var records = new List<KeptRecord>();
        if (!File.Exists(path))
        {
            return records;
        }

        var bytes = File.ReadAllBytes(path);
        var complete = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        if (complete < bytes.Length)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.SetLength(complete);
            stream.Flush(flushToDisk: true);
        }

        var text = Encoding.UTF8.GetString(bytes, 0, complete);
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                records.Add(JsonSerializer.Deserialize<KeptRecord>(line, Json)
                    ?? throw new GeneratorInputException($"{path} line {lineNumber}: null record."));
            }
            catch (JsonException e)
            {
                throw new GeneratorInputException($"{path} line {lineNumber}: unreadable kept record ({e.Message}).");
            }
        }

        return records;
    }
}
