using System.Security.Cryptography;
using System.Text;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Llm.Hub;

/// <summary>
/// Pulls a <see cref="HubReference"/> into the <see cref="HubCache"/>: resolves the revision to a commit, fetches only
/// blobs the cache lacks (into <c>blobs/&lt;etag&gt;.incomplete</c>, resumed with <c>Range</c> after an interrupted
/// transfer), verifies each against the id the Hub reports (the LFS SHA-256, or the git blob SHA-1 of a small file),
/// links the snapshot and records the ref. A second pull of the same revision costs the metadata requests only; one
/// pinned to a cached commit hash makes no request at all.
/// </summary>
public sealed class HubPuller(HubClient client, HubCache cache)
{
    /// <summary>Transfer attempts per file; each after the first resumes where the last one stopped.</summary>
    public int Attempts { get; init; } = 4;

    public Action<HubProgress>? Progress { get; init; }

    public Action<string>? Log { get; init; }

    /// <summary>Client and cache from the environment (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HOME</c>).</summary>
    public static HubPuller FromEnvironment(Action<HubProgress>? progress = null, Action<string>? log = null) =>
        new(HubClient.FromEnvironment(), HubCache.FromEnvironment()) { Progress = progress, Log = log };

    public HubCache Cache => cache;

    public async Task<HubPullResult> PullAsync(HubReference reference, CancellationToken ct = default)
    {
        var repo = reference.RepoId;
        if (reference.IsCommitPinned && TryOffline(reference) is { } cached)
        {
            return cached;
        }

        string? commit = null;
        List<string> files;
        if (reference.Target == HubTarget.File)
        {
            files = [reference.FileName!];
        }
        else
        {
            var listing = await client.ListFilesAsync(repo, reference.Revision, ct);
            commit = listing.Commit;
            files = reference.Target == HubTarget.Quantization
                ? HubFileSelection.Quantization(repo, reference.Quantization!, listing.Files)
                : HubFileSelection.ModelFiles(repo, listing.Files);
        }

        long downloaded = 0;
        foreach (var file in files)
        {
            // Every file at the commit the first answer named, so a push during the pull cannot mix two revisions.
            var meta = await client.HeadAsync(repo, commit ?? reference.Revision, file, ct);
            commit ??= meta.Commit;
            var blob = cache.BlobPath(repo, meta.Etag);
            if (!File.Exists(blob) || new FileInfo(blob).Length != meta.Size)
            {
                downloaded += await FetchAsync(repo, meta, blob, ct);
            }

            cache.Link(repo, commit, file, meta.Etag);
        }

        cache.WriteRef(repo, reference.Revision, commit!);
        var path = reference.Target == HubTarget.Repository ? cache.SnapshotFolder(repo, commit!) : cache.SnapshotPath(repo, commit!, files[0]);
        return new HubPullResult(reference, path, commit!, files, downloaded, Offline: false);
    }

    /// <summary>Pulls when <paramref name="model"/> is a Hub reference, else returns it unchanged (a local path).</summary>
    public static async Task<string> ResolveAsync(string model, Action<string>? log, Action<HubProgress>? progress, CancellationToken ct)
    {
        if (!HubReference.LooksLikeReference(model))
        {
            return model;
        }

        var puller = FromEnvironment(progress, log);
        var result = await puller.PullAsync(HubReference.Parse(model), ct);
        log?.Invoke(result.ToString());
        return result.Path;
    }

    private async Task<long> FetchAsync(string repo, HubFileMetadata meta, string blob, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var partial = blob + ".incomplete";
        var before = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (before > 0)
        {
            Log?.Invoke($"{meta.File}: resuming at byte {before} of {meta.Size}");
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.DownloadAsync(meta, repo, partial, Progress, ct);
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && attempt < Attempts && !ct.IsCancellationRequested)
            {
                var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                Log?.Invoke($"{meta.File}: transfer interrupted at byte {have} ({e.Message}); resuming");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct);
            }
        }

        var actual = await ContentIdAsync(partial, meta, ct);
        if (actual != meta.Etag)
        {
            File.Delete(partial);
            throw new HubException($"{repo}/{meta.File}: the downloaded bytes hash to {actual}, but the Hub names the object {meta.Etag}; the corrupt download was deleted, pull again.");
        }

        File.Move(partial, blob, overwrite: true);
        return meta.Size - before;
    }

    /// <summary>The id the Hub names this content by: SHA-256 for LFS objects, git's <c>sha1("blob N\0" + bytes)</c> for the rest.</summary>
    private static async Task<string> ContentIdAsync(string path, HubFileMetadata meta, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        if (meta.IsLfs)
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        }

        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int n;
        while ((n = await stream.ReadAsync(buffer, ct)) > 0)
        {
            sha1.AppendData(buffer, 0, n);
        }

        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>A commit-pinned reference whose snapshot is complete in the cache needs no network.</summary>
    private HubPullResult? TryOffline(HubReference reference)
    {
        var folder = cache.SnapshotFolder(reference.RepoId, reference.Revision);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        List<string> files;
        switch (reference.Target)
        {
            case HubTarget.File:
                files = [reference.FileName!];
                break;
            case HubTarget.Quantization:
                try
                {
                    var present = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).ToList();
                    files = HubFileSelection.Quantization(reference.RepoId, reference.Quantization!, present);
                }
                catch (HubException)
                {
                    return null;
                }

                break;
            default:
                if (!File.Exists(Path.Combine(folder, "config.json")))
                {
                    return null;
                }

                try
                {
                    using var checkpoint = SafetensorsCheckpoint.Open(folder); // fails when an indexed shard is missing
                }
                catch (Exception e) when (e is IOException or SafetensorsFormatException)
                {
                    return null;
                }

                files = Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;
                break;
        }

        if (!files.All(f => File.Exists(Path.Combine(folder, f))))
        {
            return null;
        }

        var path = reference.Target == HubTarget.Repository ? folder : Path.Combine(folder, files[0]);
        Log?.Invoke($"{reference}: commit {reference.Revision} is cached; no network needed");
        return new HubPullResult(reference, path, reference.Revision, files, 0, Offline: true);
    }
}
