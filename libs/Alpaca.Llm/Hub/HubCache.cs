using System.Text;

namespace Alpaca.Llm.Hub;

/// <summary>
/// huggingface_hub's cache layout, so Python tools and we share the same files:
/// <c>{HF_HUB_CACHE | HF_HOME/hub | ~/.cache/huggingface/hub}/models--org--name/</c> with <c>blobs/&lt;etag&gt;</c> (the
/// content, named by the LFS SHA-256 or the git blob id), <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c> (relative symlinks to
/// the blobs) and <c>refs/&lt;revision&gt;</c> (the commit a branch or tag resolved to, no newline).
/// </summary>
public sealed class HubCache(string root)
{
    /// <summary>The hub cache folder itself (the one holding <c>models--*</c>).</summary>
    public string Root { get; } = root;

    /// <summary>The cache the environment names, as huggingface_hub reads it.</summary>
    public static HubCache FromEnvironment()
    {
        var hub = Environment.GetEnvironmentVariable("HF_HUB_CACHE");
        if (string.IsNullOrEmpty(hub))
        {
            var home = Environment.GetEnvironmentVariable("HF_HOME");
            if (string.IsNullOrEmpty(home))
            {
                var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                home = Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "huggingface");
            }

            hub = Path.Combine(home, "hub");
        }

        return new HubCache(hub);
    }

    /// <summary><c>models--org--name</c>: huggingface_hub's folder name (<c>/</c> becomes <c>--</c>).</summary>
    public string RepoFolder(string repoId) => Path.Combine(Root, "models--" + repoId.Replace("/", "--", StringComparison.Ordinal));

    public string BlobPath(string repoId, string etag) => Path.Combine(RepoFolder(repoId), "blobs", etag);

    public string SnapshotFolder(string repoId, string commit) => Path.Combine(RepoFolder(repoId), "snapshots", commit);

    public string SnapshotPath(string repoId, string commit, string file) => Path.Combine(SnapshotFolder(repoId, commit), file);

    /// <summary>The commit <paramref name="revision"/> resolved to last time, if it was recorded.</summary>
    public string? ReadRef(string repoId, string revision)
    {
        var path = RefPath(repoId, revision);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>Records the commit a branch or tag resolved to (nothing for a commit hash, as huggingface_hub does).</summary>
    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit)
        {
            return;
        }

        var path = RefPath(repoId, revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, commit, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Points <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c> at the blob with a relative symlink (<c>../../blobs/&lt;etag&gt;</c>, one more <c>..</c> per folder of the path).</summary>
    public string Link(string repoId, string commit, string file, string etag)
    {
        var pointer = SnapshotPath(repoId, commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        var target = Path.GetRelativePath(Path.GetDirectoryName(pointer)!, BlobPath(repoId, etag));
        var existing = new FileInfo(pointer);
        if (existing.LinkTarget == target)
        {
            return pointer;
        }

        if (existing.Exists || existing.LinkTarget is not null)
        {
            File.Delete(pointer);
        }

        File.CreateSymbolicLink(pointer, target);
        return pointer;
    }

    // A revision like "refs/pr/1" is a nested file under refs/, as in huggingface_hub.
    private string RefPath(string repoId, string revision) => Path.Combine(RepoFolder(repoId), "refs", revision);
}
