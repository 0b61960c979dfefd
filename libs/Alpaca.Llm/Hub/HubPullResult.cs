namespace Alpaca.Llm.Hub;

/// <summary>
/// A pulled reference: <see cref="Path"/> is the snapshot file (a GGUF) or the snapshot folder (a safetensors repository),
/// <see cref="Commit"/> the commit the revision resolved to, <see cref="BytesDownloaded"/> zero when everything was cached.
/// </summary>
public sealed record HubPullResult(HubReference Reference, string Path, string Commit, IReadOnlyList<string> Files, long BytesDownloaded, bool Offline)
{
    public override string ToString() =>
        $"{Reference} @ {Commit}: {Files.Count} file(s), {(BytesDownloaded == 0 ? "all cached" : $"{BytesDownloaded} bytes downloaded")}{(Offline ? " (offline)" : "")} -> {Path}";
}
