using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.TestSupport.Hub;

/// <summary>One request either host received.</summary>
public sealed record HubRequest(string Host, string Method, string Path, string? Range, string? Authorization);

/// <summary>
/// A loopback Hugging Face Hub: two Kestrel hosts on 127.0.0.1, the Hub and its "CDN" (another port, so another
/// authority). The Hub answers <c>GET /api/models/{repo}/revision/{rev}</c> (<c>sha</c>, <c>siblings[].rfilename</c>) and
/// <c>HEAD|GET /{repo}/resolve/{rev}/{file}</c> as huggingface.co does: small files inline with a quoted git-blob-SHA-1
/// <c>ETag</c>; LFS files (<c>.gguf</c>, <c>.safetensors</c>, <c>.bin</c>) as a 302 to the CDN carrying
/// <c>X-Linked-Etag</c> (the SHA-256), <c>X-Linked-Size</c> and <c>X-Repo-Commit</c>; 401/403 for gated repositories
/// with <c>X-Error-Code: GatedRepo</c>, 404 with <c>EntryNotFound</c>/<c>RevisionNotFound</c>/<c>RepoNotFound</c>.
/// The CDN serves <c>Range: bytes=N-</c> with 206, can cut a transfer short once, or serve corrupted bytes.
/// </summary>
public sealed class HubServer : IAsyncDisposable
{
    private readonly WebApplication _hub;
    private readonly WebApplication _cdn;
    private readonly ConcurrentDictionary<string, HubRepo> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

    public HubServer()
    {
        _hub = Build(MapHub);
        _cdn = Build(MapCdn);
        Endpoint = Address(_hub);
        CdnEndpoint = Address(_cdn);
    }

    public string Endpoint { get; }

    public string CdnEndpoint { get; }

    /// <summary>The token gated repositories accept.</summary>
    public string Token { get; set; } = "hf_test_token";

    public ConcurrentQueue<HubRequest> Requests { get; } = new();

    /// <summary>SHA-256s whose next CDN transfer stops (connection aborted) after this many bytes.</summary>
    public ConcurrentDictionary<string, long> CutOnce { get; } = new(StringComparer.Ordinal);

    /// <summary>SHA-256s the CDN serves with one byte flipped.</summary>
    public HashSet<string> Corrupt { get; } = [];

    /// <summary>Adds (or replaces) a repository whose <paramref name="revisions"/> (branch or tag names) all point at one new commit.</summary>
    public string AddRepo(string repoId, IReadOnlyDictionary<string, byte[]> files, bool gated = false, params string[] revisions)
    {
        var commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var repo = _repos.GetOrAdd(repoId, _ => new HubRepo(gated));
        repo.Commits[commit] = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
        foreach (var rev in revisions.Length == 0 ? ["main"] : revisions)
        {
            repo.Refs[rev] = commit;
        }

        foreach (var (name, bytes) in files.Where(f => IsLfs(f.Key)))
        {
            _objects[Sha256(bytes)] = bytes;
        }

        return commit;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string GitBlobSha1(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    public int Count(string host, string method) => Requests.Count(r => r.Host == host && r.Method == method);

    private static bool IsLfs(string file) => file.EndsWith(".gguf", StringComparison.Ordinal) || file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".bin", StringComparison.Ordinal);

    private static WebApplication Build(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        return app;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    private void Log(string host, HttpContext c) => Requests.Enqueue(new HubRequest(host, c.Request.Method, c.Request.Path + c.Request.QueryString,
        c.Request.Headers.Range.Count > 0 ? c.Request.Headers.Range.ToString() : null,
        c.Request.Headers.Authorization.Count > 0 ? c.Request.Headers.Authorization.ToString() : null));

    private void MapHub(WebApplication app)
    {
        app.MapGet("/api/models/{org}/{name}/revision/{rev}", (HttpContext c, string org, string name, string rev) =>
        {
            Log("hub", c);
            if (Refuse(c, org + "/" + name, rev, out var repo, out var commit) is { } refused)
            {
                return refused;
            }

            var files = repo!.Commits[commit!].Keys.Order(StringComparer.Ordinal).Select(f => new { rfilename = f });
            return Results.Json(new { id = org + "/" + name, sha = commit, siblings = files });
        });
        app.MapMethods("/{org}/{name}/resolve/{rev}/{**file}", ["GET", "HEAD"], (HttpContext c, string org, string name, string rev, string file) =>
        {
            Log("hub", c);
            if (Refuse(c, org + "/" + name, rev, out var repo, out var commit) is { } refused)
            {
                return refused;
            }

            if (!repo!.Commits[commit!].TryGetValue(file, out var bytes))
            {
                c.Response.Headers["X-Error-Code"] = "EntryNotFound";
                return Results.Text("Entry not found", statusCode: 404);
            }

            c.Response.Headers["X-Repo-Commit"] = commit;
            if (IsLfs(file))
            {
                var sha = Sha256(bytes);
                // The git ETag of an LFS file is its pointer's; the content's id is X-Linked-Etag, as on huggingface.co.
                c.Response.Headers.ETag = "\"" + GitBlobSha1(Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {bytes.Length}\n")) + "\"";
                c.Response.Headers["X-Linked-Etag"] = "\"" + sha + "\"";
                c.Response.Headers["X-Linked-Size"] = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                c.Response.Headers.Location = $"{CdnEndpoint}/repos/{sha}?X-Amz-Signature=loopback";
                return Results.StatusCode(302);
            }

            c.Response.Headers.ETag = "\"" + GitBlobSha1(bytes) + "\"";
            return Results.Bytes(bytes, "application/octet-stream");
        });
    }

    private IResult? Refuse(HttpContext c, string repoId, string rev, out HubRepo? repo, out string? commit)
    {
        commit = null;
        if (!_repos.TryGetValue(repoId, out repo))
        {
            c.Response.Headers["X-Error-Code"] = "RepoNotFound";
            return Results.Text("Repository not found", statusCode: 404);
        }

        if (repo.Gated)
        {
            var auth = c.Request.Headers.Authorization.ToString();
            if (auth.Length == 0 || auth != "Bearer " + Token)
            {
                c.Response.Headers["X-Error-Code"] = "GatedRepo";
                return Results.Text($"Access to model {repoId} is restricted.", statusCode: auth.Length == 0 ? 401 : 403);
            }
        }

        if (repo.Commits.ContainsKey(rev))
        {
            commit = rev;
        }
        else if (!repo.Refs.TryGetValue(rev, out commit))
        {
            c.Response.Headers["X-Error-Code"] = "RevisionNotFound";
            return Results.Text("Invalid rev id", statusCode: 404);
        }

        return null;
    }

    private void MapCdn(WebApplication app)
    {
        app.MapGet("/repos/{sha}", async (HttpContext c, string sha) =>
        {
            Log("cdn", c);
            if (!_objects.TryGetValue(sha, out var bytes))
            {
                c.Response.StatusCode = 404;
                return;
            }

            if (Corrupt.Contains(sha))
            {
                bytes = (byte[])bytes.Clone();
                bytes[bytes.Length / 2] ^= 0xff;
            }

            long from = 0;
            var range = c.Request.Headers.Range.ToString();
            if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && long.TryParse(range[6..^1], out var start))
            {
                if (start >= bytes.Length)
                {
                    c.Response.StatusCode = 416;
                    return;
                }

                from = start;
                c.Response.StatusCode = 206;
                c.Response.Headers.ContentRange = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
            }

            c.Response.ContentLength = bytes.Length - from;
            c.Response.Headers.ETag = "\"" + sha + "\"";
            if (CutOnce.TryRemove(sha, out var cut))
            {
                await c.Response.Body.WriteAsync(bytes.AsMemory((int)from, (int)(cut - from)));
                await c.Response.Body.FlushAsync();
                await Task.Delay(300); // let the client read what was sent: an abort's reset can discard unread bytes
                c.Abort(); // the connection drops mid-body, as a flaky network does
                return;
            }

            await c.Response.Body.WriteAsync(bytes.AsMemory((int)from));
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _cdn.DisposeAsync();
    }

    private sealed class HubRepo(bool gated)
    {
        public bool Gated { get; } = gated;

        public ConcurrentDictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, Dictionary<string, byte[]>> Commits { get; } = new(StringComparer.Ordinal);
    }
}
