using System.Globalization;
using System.Security.Cryptography;

namespace Alpaca.Llm.IO.Exports;

/// <summary>
/// One export being written: a generation folder of its own, <c>&lt;output&gt;/.exports/&lt;token&gt;-&lt;ticks&gt;-&lt;id&gt;/</c>,
/// that mirrors the output folder's layout. <see cref="CommitAsync"/> flushes and hashes it, confirms the manifest
/// through the job's or run's fence (refused: nothing of it lands), links its files into the output folder, and then
/// re-reads the confirmed manifest: a holder that was frozen between its confirmation and its renames, while another
/// replica took over and exported, finds the newer manifest there and puts the newer files back
/// (<see cref="ExportFolder.SettleAsync"/>). The newest confirmed generation keeps its folder (hard links, no extra
/// space) until a newer one is in place, so it can always be restored. Disposing an uncommitted export deletes it.
/// </summary>
public sealed class ExportGeneration : IDisposable
{
    private bool _committed;

    private ExportGeneration(string outputDir, long fencingToken, IReadOnlyList<string> ownedPatterns)
    {
        OutputDir = Path.GetFullPath(outputDir);
        FencingToken = fencingToken;
        OwnedPatterns = ownedPatterns;
        Name = string.Create(CultureInfo.InvariantCulture, $"{fencingToken:D19}-{DateTime.UtcNow.Ticks:D19}-{Guid.NewGuid():N}")[..48];
        Folder = Path.Combine(ExportFolder.Root(OutputDir), Name);
        Directory.CreateDirectory(Folder);
    }

    /// <summary>Where the export goes once committed.</summary>
    public string OutputDir { get; }

    /// <summary>The folder to write the export into (the output folder's layout).</summary>
    public string Folder { get; }

    /// <summary>The generation's name (its folder under <c>.exports/</c>): the fencing token first, so names order by holder.</summary>
    public string Name { get; }

    public long FencingToken { get; }

    /// <summary>File-name patterns this export owns in each folder it writes (e.g. <c>model*.safetensors*</c>): matching files it does not have are removed when it is put in place.</summary>
    public IReadOnlyList<string> OwnedPatterns { get; }

    /// <param name="outputDir">The output folder.</param>
    /// <param name="fencingToken">The writer's lease token (<see cref="IExportFence.FencingToken"/>; 0 without leases).</param>
    /// <param name="ownedPatterns">See <see cref="OwnedPatterns"/>.</param>
    public static ExportGeneration Create(string outputDir, long fencingToken = 0, IReadOnlyList<string>? ownedPatterns = null) =>
        new(outputDir, fencingToken, ownedPatterns ?? []);

    /// <summary>Where to write what goes to <paramref name="finalPath"/> (inside the output folder).</summary>
    public string StagedPath(string finalPath) => Path.Combine(Folder, Path.GetRelativePath(OutputDir, Path.GetFullPath(finalPath)));

    /// <summary>The final path of a file written as <paramref name="stagedPath"/>.</summary>
    public string FinalPath(string stagedPath) => Path.Combine(OutputDir, Path.GetRelativePath(Folder, Path.GetFullPath(stagedPath)));

    /// <summary>
    /// Flushes and hashes the staged files, confirms them through <paramref name="fence"/> (null: no fence, always
    /// confirmed), and puts them in place; returns the manifest. Throws what the fence throws when the writer is
    /// deposed (nothing of this export lands), and <see cref="ExportSupersededException"/> when a newer holder
    /// confirmed its export before this one was in place (the newer one is then in place).
    /// </summary>
    public async Task<ExportManifest> CommitAsync(IExportFence? fence, CancellationToken cancellationToken = default)
    {
        var manifest = Describe();
        if (fence is null)
        {
            _committed = true;
            ExportFolder.Place(OutputDir, manifest, OwnedPatterns);
            ExportFolder.DeleteOlder(OutputDir, manifest);
            return manifest;
        }

        await fence.ConfirmAsync(manifest, cancellationToken).ConfigureAwait(false);
        _committed = true;

        // Between the confirmation and here a holder can be frozen while another takes over and exports: settling
        // re-reads the confirmed manifest after the renames and puts the newest generation back.
        var inPlace = await ExportFolder.SettleAsync(OutputDir, manifest, fence, OwnedPatterns, cancellationToken).ConfigureAwait(false);
        if (inPlace is not null && inPlace.Generation != manifest.Generation)
        {
            // The confirmed record never goes back to an older token, so nobody will restore this generation again.
            ExportFolder.TryDelete(Folder);
            throw new ExportSupersededException(OutputDir, manifest, inPlace);
        }

        ExportFolder.DeleteOlder(OutputDir, manifest);
        return manifest;
    }

    /// <summary>The manifest of the staged files, each flushed to disk, their folders too.</summary>
    private ExportManifest Describe()
    {
        var files = new List<ExportedFile>();
        foreach (var path in Directory.GetFiles(Folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            DurableFile.FlushFile(path);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
            files.Add(new ExportedFile(Path.GetRelativePath(Folder, path).Replace('\\', '/'), stream.Length, sha));
        }

        foreach (var dir in Directory.GetDirectories(Folder, "*", SearchOption.AllDirectories).Prepend(Folder))
        {
            DurableFile.FlushDirectory(dir);
        }

        DurableFile.FlushDirectory(ExportFolder.Root(OutputDir));
        return new ExportManifest(Name, FencingToken, files);
    }

    public void Dispose()
    {
        // A confirmed generation stays until a newer one replaces it (another holder may be restoring it).
        if (!_committed)
        {
            ExportFolder.TryDelete(Folder);
        }
    }
}
