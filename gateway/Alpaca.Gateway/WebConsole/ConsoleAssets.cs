using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;

namespace Alpaca.Gateway.WebConsole;

/// <summary>
/// The console's static files, embedded in the gateway assembly (logical names <c>console/…</c>, see the csproj), so
/// every host of the gateway — its own image, <c>alpaca up</c>, tests — serves the same files with nothing on disk
/// and nothing fetched from elsewhere: the console works offline.
/// </summary>
internal sealed class ConsoleAssets
{
    private const string Prefix = "console/";

    // The console renders everything it shows as text (never as HTML) and loads scripts only from itself; the
    // evaluation reports it opens run in a sandboxed frame (an opaque origin: no access to the key in
    // sessionStorage), whose inline scripts and styles inherit this policy, hence 'unsafe-inline'.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    private readonly FrozenDictionary<string, Asset> _assets;

    public ConsoleAssets()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var type = types.TryGetContentType(name, out var t) ? t : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }

            assets[name[Prefix.Length..]] = new Asset(bytes, type, "\"" + Convert.ToHexString(SHA256.HashData(bytes))[..16] + "\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>Answers one asset (<c>""</c> is <c>index.html</c>), with an ETag so a reload revalidates cheaply.</summary>
    public IResult Serve(HttpContext http, string? path)
    {
        if (!_assets.TryGetValue(string.IsNullOrEmpty(path) ? "index.html" : path, out var asset))
        {
            return Results.NotFound();
        }

        var headers = http.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        if (http.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
