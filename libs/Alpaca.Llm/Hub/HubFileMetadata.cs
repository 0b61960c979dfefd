namespace Alpaca.Llm.Hub;

/// <summary>
/// What <c>HEAD /{repo}/resolve/{revision}/{file}</c> tells: the commit the revision resolved to (<c>X-Repo-Commit</c>),
/// the content's id (<c>X-Linked-Etag</c> for LFS files: their SHA-256; else <c>ETag</c>: the git blob SHA-1), its size
/// (<c>X-Linked-Size</c>, else <c>Content-Length</c>) and where to GET it (the CDN URL of a 302, else the resolve URL).
/// </summary>
public sealed record HubFileMetadata(string File, string Commit, string Etag, long Size, Uri Location)
{
    /// <summary>LFS objects are named by their SHA-256 (64 hex digits); regular files by a 40-digit git blob id.</summary>
    public bool IsLfs => Etag.Length == 64;
}

/// <summary>The files of a repository at one commit (<c>GET /api/models/{repo}/revision/{revision}</c>).</summary>
public sealed record HubRepoListing(string RepoId, string Commit, IReadOnlyList<string> Files);

/// <summary>Bytes of one file received so far.</summary>
public readonly record struct HubProgress(string File, long Done, long Total);
