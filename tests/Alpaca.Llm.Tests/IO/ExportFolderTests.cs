using System.Security.Cryptography;
using System.Text;
using Alpaca.Llm.IO.Exports;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.IO;

/// <summary>
/// Export generations on real files: a generation is put in place by hard links (one inode, no copy), a stale
/// holder's files renamed over the confirmed export are put back by reconciling, with the names only the stale
/// export had removed, and cleaning up keeps a newer holder's folder. The confirmed record here is a file
/// (<see cref="FileFence"/>); the state-store fences are tested with the trainer and generator services.
/// </summary>
public sealed class ExportFolderTests
{
    [Fact]
    public async Task Stale_files_renamed_over_the_confirmed_export_are_put_back_and_their_extra_names_removed()
    {
        using var dir = new TempDir("export-folder");
        var output = Path.Combine(dir.Path, "out");
        var fence = new FileFence(Path.Combine(dir.Path, "confirmed.json"), fencingToken: 2);

        // The newest holder (token 2) confirms and puts its export in place.
        using (var b = ExportGeneration.Create(output, fence.FencingToken))
        {
            Write(b, "model.gguf", "weights of b");
            Write(b, "config.json", "{\"b\": true}");
            await b.CommitAsync(fence);
        }

        var ofB = Snapshot(output);

        // A deposed holder (token 1) renames its export over it afterwards, as one frozen before its renames while
        // they raced the newer holder's would: another GGUF, and a name the newer export does not have.
        using (var a = ExportGeneration.Create(output, fencingToken: 1))
        {
            Write(a, "model.gguf", "weights of a");
            Write(a, "model-extra.gguf", "only a");
            await a.CommitAsync(fence: null);
        }

        Assert.Equal(Sha("weights of a"), Snapshot(output)["model.gguf"]);

        var inPlace = await ExportFolder.ReconcileAsync(output, fence);
        Assert.Equal(ofB, Snapshot(output));
        Assert.NotNull(inPlace);
        Assert.Equal(2, inPlace.FencingToken);
        Assert.True(ExportFolder.Matches(output, inPlace));
    }

    [Fact]
    public async Task A_placed_file_is_a_hard_link_of_its_generation_and_clean_up_keeps_a_newer_holders_folder()
    {
        using var dir = new TempDir("export-links");
        var output = Path.Combine(dir.Path, "out");
        var fence = new FileFence(Path.Combine(dir.Path, "confirmed.json"), fencingToken: 5);
        using var newer = ExportGeneration.Create(output, fencingToken: 6); // a later holder, still writing
        Write(newer, "model.gguf", "later");

        using var export = ExportGeneration.Create(output, fence.FencingToken);
        Write(export, "model.gguf", "weights");
        var manifest = await export.CommitAsync(fence);

        // One file, two names: writing through the generation's name shows under the output's (Linux link(2)).
        File.AppendAllText(Path.Combine(export.Folder, "model.gguf"), "+");
        Assert.Equal("weights+", File.ReadAllText(Path.Combine(output, "model.gguf")));
        Assert.Equal(Sha("weights"), manifest.Find("model.gguf")!.Sha256);
        Assert.True(Directory.Exists(newer.Folder));
        Assert.Equal(
            [Path.GetFileName(export.Folder), Path.GetFileName(newer.Folder)],
            Directory.GetDirectories(ExportFolder.Root(output)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static void Write(ExportGeneration generation, string name, string text)
    {
        var path = generation.StagedPath(Path.Combine(generation.OutputDir, name));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The files of the output folder (not the generations) with the SHA-256 of each.</summary>
    private static Dictionary<string, string> Snapshot(string output) =>
        Directory.GetFiles(output).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>The confirmed record as a file: the last confirmation wins (the fencing itself is the state store's).</summary>
    private sealed class FileFence(string path, long fencingToken) : IExportFence
    {
        public long FencingToken => fencingToken;

        public Task ConfirmAsync(ExportManifest manifest, CancellationToken cancellationToken)
        {
            File.WriteAllBytes(path, manifest.ToJson());
            return Task.CompletedTask;
        }

        public Task<ExportManifest?> ReadConfirmedAsync(CancellationToken cancellationToken) =>
            Task.FromResult(File.Exists(path) ? ExportManifest.FromJson(File.ReadAllBytes(path)) : null);
    }
}
