using System.Globalization;
using System.IO.Enumeration;
using System.Security.Cryptography;

namespace Alpaca.Llm.IO.Exports;

/// <summary>
/// The output folder of a job or run and its export generations (<c>.exports/&lt;generation&gt;/</c>, see
/// <see cref="ExportGeneration"/>): putting a generation in place, settling on the newest confirmed one, and removing
/// the generations a newer one has replaced.
/// </summary>
public static class ExportFolder
{
    /// <summary>The folder, inside the output folder, that holds the generations.</summary>
    public const string GenerationsFolder = ".exports";

    public static string Root(string outputDir) => Path.Combine(outputDir, GenerationsFolder);

    /// <summary>
    /// Reconciles the output folder with the confirmed manifest before a new holder goes on (a replica that takes
    /// a job or run over): whatever a deposed holder renamed into place after the confirmation, the newest confirmed
    /// generation is put back. Returns the generation in place (null: nothing was confirmed yet). Throws
    /// <see cref="ExportMissingException"/> when that generation's folder is gone and the files differ from it.
    /// </summary>
    public static Task<ExportManifest?> ReconcileAsync(string outputDir, IExportFence fence, IReadOnlyList<string>? ownedPatterns = null, CancellationToken cancellationToken = default) =>
        SettleAsync(Path.GetFullPath(outputDir), null, fence, ownedPatterns ?? [], cancellationToken);

    /// <summary>
    /// Puts <paramref name="first"/> in place (when given), then re-reads the confirmed manifest and, as long as it
    /// names another generation than the one in place, puts that one in place and reads again. Every holder does
    /// this after its last rename, and a confirmation always precedes its renames, so the last rename anybody makes
    /// is followed by a read that sees every confirmation before it: the files end as the newest confirmed export.
    /// </summary>
    internal static async Task<ExportManifest?> SettleAsync(string outputDir, ExportManifest? first, IExportFence fence, IReadOnlyList<string> ownedPatterns, CancellationToken cancellationToken)
    {
        // False when a newer holder already removed our generation (it had confirmed and put its own in place).
        var inPlace = first is not null && Place(outputDir, first, ownedPatterns) ? first : null;

        // What this call may have linked into place, so that a generation put back over it removes those names too
        // (their own folder may be gone by then, and with it the record of what they were).
        var placed = new HashSet<string>(first?.Files.Select(f => f.Path) ?? [], StringComparer.Ordinal);
        string? missing = null;
        while (true)
        {
            var confirmed = await fence.ReadConfirmedAsync(cancellationToken).ConfigureAwait(false);
            if (confirmed is null || confirmed.Generation == inPlace?.Generation)
            {
                return confirmed is null ? inPlace : confirmed;
            }

            if (Place(outputDir, confirmed, ownedPatterns, placed))
            {
                inPlace = confirmed; // and read again: a newer one may have been confirmed meanwhile
                placed.UnionWith(confirmed.Files.Select(f => f.Path));
                continue;
            }

            if (missing == confirmed.Generation)
            {
                // Only an operator removes the newest generation (holders remove older ones only): trust the files if they are it.
                if (Matches(outputDir, confirmed))
                {
                    return confirmed;
                }

                throw new ExportMissingException(
                    $"The confirmed export of {outputDir} (generation {confirmed.Generation}) cannot be restored: {Path.Combine(Root(outputDir), confirmed.Generation)} is gone and the files in place differ from its manifest.");
            }

            missing = confirmed.Generation;
        }
    }

    /// <summary>
    /// Links every file of <paramref name="manifest"/>'s generation into the output folder (a temporary link, then a
    /// rename over the target: a reader sees the old file or the new one), index files last, then removes the files
    /// of other generations (and the <paramref name="ownedPatterns"/> matches) that this one does not have, and fsyncs
    /// every folder it changed. False when the generation's folder or one of its files is gone.
    /// </summary>
    /// <param name="outputDir">The output folder.</param>
    /// <param name="manifest">The generation to put in place.</param>
    /// <param name="ownedPatterns">See <see cref="ExportGeneration.OwnedPatterns"/>.</param>
    /// <param name="alsoStale">Paths (relative) the caller itself put in place earlier; removed unless this generation has them.</param>
    public static bool Place(string outputDir, ExportManifest manifest, IReadOnlyList<string> ownedPatterns, IReadOnlySet<string>? alsoStale = null)
    {
        var folder = Path.Combine(Root(outputDir), manifest.Generation);
        if (!Directory.Exists(folder))
        {
            return false;
        }

        var touched = new HashSet<string>(StringComparer.Ordinal);
        var order = manifest.Files.OrderBy(f => f.Path.EndsWith(".index.json", StringComparison.Ordinal) ? 1 : 0).ThenBy(f => f.Path, StringComparer.Ordinal);
        foreach (var file in order)
        {
            var target = Path.Combine(outputDir, file.Path);
            var dir = Path.GetDirectoryName(target)!;
            Directory.CreateDirectory(dir);
            var temp = Path.Combine(dir, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.link");
            try
            {
                HardLink.CreateOrCopy(Path.Combine(folder, file.Path), temp);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                TryDeleteFile(temp);
                return false;
            }

            File.Move(temp, target, overwrite: true);

            // rename(2) of a name onto another name of the same file does nothing and leaves both: the target was this
            // generation's file already (a restore of what is in place), so the temporary name is just dropped.
            TryDeleteFile(temp);
            touched.Add(dir);
        }

        foreach (var stale in StaleFiles(outputDir, manifest, ownedPatterns, alsoStale))
        {
            TryDeleteFile(stale);
            touched.Add(Path.GetDirectoryName(stale)!);
        }

        foreach (var dir in touched)
        {
            DurableFile.FlushDirectory(dir);
        }

        return true;
    }

    /// <summary>
    /// Removes the generations <paramref name="newest"/> (confirmed, in place) replaced: those of an older token,
    /// and this token's others (one holder exports one at a time). A newer token's folders stay: a holder that took
    /// over after this one may be writing there.
    /// </summary>
    public static void DeleteOlder(string outputDir, ExportManifest newest)
    {
        var root = Root(outputDir);
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var dir in Directory.GetDirectories(root))
        {
            var name = Path.GetFileName(dir);
            var token = TokenOf(name);
            if (name != newest.Generation && (token is null || token <= newest.FencingToken))
            {
                TryDelete(dir);
            }
        }
    }

    /// <summary>True when every file of <paramref name="manifest"/> in the output folder has its size and SHA-256.</summary>
    public static bool Matches(string outputDir, ExportManifest manifest) =>
        manifest.Files.All(f => FileMatches(Path.Combine(outputDir, f.Path), f));

    /// <summary>True when <paramref name="path"/> has the size and SHA-256 <paramref name="expected"/> names.</summary>
    public static bool FileMatches(string path, ExportedFile expected)
    {
        if (!File.Exists(path) || new FileInfo(path).Length != expected.Size)
        {
            return false;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return string.Equals(Convert.ToHexStringLower(SHA256.HashData(stream)), expected.Sha256, StringComparison.OrdinalIgnoreCase);
    }

    internal static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already (another holder cleaned up), or busy: the next export's clean-up tries again.
        }
    }

    private static long? TokenOf(string generation) =>
        generation.Length > 19 && long.TryParse(generation.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture, out var token) ? token : null;

    /// <summary>Files in the output folder that another generation has (or an owned pattern matches) and this one does not.</summary>
    private static List<string> StaleFiles(string outputDir, ExportManifest manifest, IReadOnlyList<string> ownedPatterns, IReadOnlySet<string>? alsoStale)
    {
        var names = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var stale = new SortedSet<string>(alsoStale?.Where(f => !names.Contains(f)) ?? [], StringComparer.Ordinal);
        var root = Root(outputDir);
        foreach (var other in Directory.GetDirectories(root).Where(d => Path.GetFileName(d) != manifest.Generation))
        {
            IEnumerable<string> files;
            try
            {
                files = Directory.GetFiles(other, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(other, f).Replace('\\', '/')).ToList();
            }
            catch (DirectoryNotFoundException)
            {
                continue; // removed meanwhile
            }

            stale.UnionWith(files.Where(f => !names.Contains(f)));
        }

        foreach (var dir in names.Select(n => Path.GetDirectoryName(n) ?? "").Distinct(StringComparer.Ordinal))
        {
            var inDir = names.Where(n => (Path.GetDirectoryName(n) ?? "") == dir).Select(Path.GetFileName).ToList();
            var target = Path.Combine(outputDir, dir);
            foreach (var pattern in ownedPatterns.Where(p => inDir.Any(n => FileSystemName.MatchesSimpleExpression(p, n!))))
            {
                stale.UnionWith(Directory.GetFiles(target, pattern).Select(f => Path.GetRelativePath(outputDir, f).Replace('\\', '/')).Where(f => !names.Contains(f)));
            }
        }

        return stale.Select(f => Path.Combine(outputDir, f)).Where(File.Exists).ToList();
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stale name left behind is named by no manifest.
        }
    }
}
