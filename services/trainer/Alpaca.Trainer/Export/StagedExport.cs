using Alpaca.Llm.IO;

namespace Alpaca.Trainer.Export;

/// <summary>
/// A job's export (the HF checkpoint: safetensors, config, tokenizer; the LoRA adapter; the GGUF; the result)
/// written into a staging folder of its own inside the output folder and moved into place only by
/// <see cref="Commit"/>, which runs the caller's confirmation first. A trainer replica deposed from the job's
/// lease while it exported is refused there (the job's fencing token, checked by the state store), so its late
/// files never replace those of the replica that took the job over; and two holders never write the same
/// temporary file, since each stages in its own folder. Disposing an uncommitted export deletes it.
/// </summary>
public sealed class StagedExport : IDisposable
{
    private const string Prefix = ".export-";

    private StagedExport(string outputDir)
    {
        OutputDir = outputDir;
        Folder = Path.Combine(outputDir, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Folder);
    }

    /// <summary>Where the export goes once committed.</summary>
    public string OutputDir { get; }

    /// <summary>The staging folder to write the export into.</summary>
    public string Folder { get; }

    public static StagedExport Create(string outputDir) => new(outputDir);

    /// <summary>Where to stage what goes to <paramref name="finalPath"/> (inside the output folder).</summary>
    public string StagedPath(string finalPath) => Path.Combine(Folder, Path.GetRelativePath(OutputDir, finalPath));

    /// <summary>The final path of a file written as <paramref name="stagedPath"/>.</summary>
    public string FinalPath(string stagedPath) => Path.Combine(OutputDir, Path.GetRelativePath(Folder, stagedPath));

    /// <summary>
    /// Calls <paramref name="confirm"/> (which throws to refuse: the caller may no longer write the job's files),
    /// then moves every staged file into the output folder: weight shards before their index, stale shards of an
    /// earlier export removed after, each folder fsynced, so a reader finds the old export or the new one.
    /// </summary>
    public void Commit(Action? confirm)
    {
        confirm?.Invoke();
        foreach (var dir in Directory.GetDirectories(Folder, "*", SearchOption.AllDirectories).Prepend(Folder))
        {
            var target = FinalPath(dir);
            Directory.CreateDirectory(target);
            var files = Directory.GetFiles(dir).OrderBy(f => f.EndsWith(".index.json", StringComparison.Ordinal) ? 1 : 0).ThenBy(f => f, StringComparer.Ordinal).ToList();
            var names = files.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
            foreach (var file in files)
            {
                File.Move(file, FinalPath(file), overwrite: true);
            }

            if (names.Any(n => n!.StartsWith("model", StringComparison.Ordinal) && n.Contains(".safetensors", StringComparison.Ordinal)))
            {
                // As SafetensorsCheckpointWriter does in place: a shard or an index of an earlier, differently sharded export must not stay.
                foreach (var stale in Directory.GetFiles(target, "model*.safetensors*").Where(f => !names.Contains(Path.GetFileName(f))))
                {
                    File.Delete(stale);
                }
            }

            DurableFile.FlushDirectory(target);
        }

        Directory.Delete(Folder, recursive: true);
    }

    public void Dispose()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
