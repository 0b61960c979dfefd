using Alpaca.Llm.IO.Exports;

namespace Alpaca.Trainer.Export;

/// <summary>
/// A job's export (the HF checkpoint: safetensors, config, tokenizer; the LoRA adapter; the GGUF; the result) written
/// into an export generation of its own inside the output folder (<see cref="ExportGeneration"/>,
/// <c>.exports/&lt;token&gt;-…/</c>) and put in place only by <see cref="Commit"/>, which confirms its manifest (every
/// file's SHA-256) through the job's fence first. A trainer replica deposed from the job's lease while it exported is
/// refused there (the job's fencing token, checked by the state store), so its late files never replace those of the
/// replica that took the job over; one frozen between the confirmation and its renames re-reads the confirmed
/// manifest after them and puts the newer export back (<see cref="ExportSupersededException"/>). Two holders never
/// write the same temporary file. Disposing an unconfirmed export deletes it.
/// </summary>
public sealed class StagedExport : IDisposable
{
    /// <summary>
    /// Weight files the export owns in each folder it writes: a shard or an index of an earlier, differently sharded
    /// save must not stay beside the new one (as SafetensorsCheckpointWriter does in place).
    /// </summary>
    public static readonly IReadOnlyList<string> OwnedPatterns = ["model*.safetensors*"];

    private readonly ExportGeneration _generation;
    private readonly IExportFence? _fence;

    private StagedExport(string outputDir, IExportFence? fence)
    {
        _fence = fence;
        _generation = ExportGeneration.Create(outputDir, fence?.FencingToken ?? 0, OwnedPatterns);
    }

    /// <summary>Where the export goes once committed.</summary>
    public string OutputDir => _generation.OutputDir;

    /// <summary>The staging folder to write the export into.</summary>
    public string Folder => _generation.Folder;

    public static StagedExport Create(string outputDir, IExportFence? fence = null) => new(outputDir, fence);

    /// <summary>Where to stage what goes to <paramref name="finalPath"/> (inside the output folder).</summary>
    public string StagedPath(string finalPath) => _generation.StagedPath(finalPath);

    /// <summary>The final path of a file written as <paramref name="stagedPath"/>.</summary>
    public string FinalPath(string stagedPath) => _generation.FinalPath(stagedPath);

    /// <summary>
    /// Confirms the export through the fence (which throws to refuse: the caller may no longer write the job's files),
    /// then links every staged file into the output folder: weight shards before their index, stale shards of an
    /// earlier export removed after, each folder fsynced, so a reader finds the old export or the new one. Returns the
    /// manifest (the files' SHA-256).
    /// </summary>
    public ExportManifest Commit() => _generation.CommitAsync(_fence).GetAwaiter().GetResult();

    /// <summary>
    /// Puts the job's newest confirmed export back in place before a replica goes on with the job (a deposed holder
    /// may have renamed stale files over it). A confirmed generation that is gone is left to the job's next export.
    /// </summary>
    public static void Reconcile(string outputDir, IExportFence fence)
    {
        try
        {
            ExportFolder.ReconcileAsync(outputDir, fence, OwnedPatterns).GetAwaiter().GetResult();
        }
        catch (ExportMissingException)
        {
            // Nothing to put back: the resumed job exports again before it can succeed.
        }
    }

    public void Dispose() => _generation.Dispose();
}
