using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Alpaca.Llm.Hub;

/// <summary>
/// The Hugging Face Hub's HTTP protocol, as huggingface_hub's <c>file_download.py</c> speaks it: the repository API for
/// the file list, <c>HEAD</c> on <c>resolve</c> for a file's metadata (relative redirects followed, the 302 to the CDN
/// not: its headers carry the LFS metadata), then a <c>GET</c> of the CDN location with <c>Range</c> to resume. Redirects
/// are followed by hand so the token goes to the Hub's own host only, never to a CDN.
/// </summary>
public sealed class HubClient : IDisposable
{
    public const string DefaultEndpoint = "https://huggingface.co";
    private const int MaxRedirects = 10;
    private readonly HttpClient _http;

    public HubClient(string? endpoint = null, string? token = null, HttpMessageHandler? handler = null)
    {
        Endpoint = new Uri((string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint).TrimEnd('/') + "/");
        Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = Timeout.InfiniteTimeSpan, // a multi-GB body takes long; ConnectTimeout and cancellation bound the rest
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("alpaca-hub/1.0");
    }

    /// <summary><c>HF_ENDPOINT</c> (a mirror) and <c>HF_TOKEN</c> (or the older <c>HUGGING_FACE_HUB_TOKEN</c>).</summary>
    public static HubClient FromEnvironment() => new(
        Environment.GetEnvironmentVariable("HF_ENDPOINT"),
        Environment.GetEnvironmentVariable("HF_TOKEN") ?? Environment.GetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN"));

    public Uri Endpoint { get; }

    public string? Token { get; }

    /// <summary>The repository's page, where a gated model's licence is accepted.</summary>
    public string RepoPage(string repoId) => new Uri(Endpoint, repoId).ToString();

    public async Task<HubRepoListing> ListFilesAsync(string repoId, string revision, CancellationToken ct)
    {
        var url = new Uri(Endpoint, $"api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}");
        using var response = await SendAsync(HttpMethod.Get, url, null, ct);
        await EnsureSuccessAsync(response, repoId, revision, null);
        using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), default, ct);
        var root = doc.RootElement;
        if (!root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String || !root.TryGetProperty("siblings", out var siblings))
        {
            throw new HubException($"{url}: the Hub's answer has no 'sha' and 'siblings'; is HF_ENDPOINT a Hub?");
        }

        var files = siblings.EnumerateArray().Select(s => s.GetProperty("rfilename").GetString()!).ToList();
        return new HubRepoListing(repoId, sha.GetString()!, files);
    }

    public async Task<HubFileMetadata> HeadAsync(string repoId, string revision, string file, CancellationToken ct)
    {
        var url = ResolveUrl(repoId, revision, file);
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            using var response = await SendAsync(HttpMethod.Head, url, null, ct);
            var location = response.Headers.Location;
            if (IsRedirect(response.StatusCode) && location is not null)
            {
                var next = new Uri(url, location);
                // A relative redirect (a renamed repository) is followed for the metadata; one to another host is the CDN.
                if (!location.IsAbsoluteUri || next.Authority == url.Authority)
                {
                    url = next;
                    continue;
                }

                return Metadata(response, file, repoId, next);
            }

            await EnsureSuccessAsync(response, repoId, revision, file);
            return Metadata(response, file, repoId, url);
        }

        throw new HubException($"{ResolveUrl(repoId, revision, file)}: more than {MaxRedirects} redirects.");
    }

    /// <summary>
    /// GETs <paramref name="url"/> into <paramref name="partialPath"/>, continuing after the bytes already there with
    /// <c>Range: bytes=N-</c> (a server that answers 200 instead of 206 gets the file rewritten from the start).
    /// </summary>
    public async Task DownloadAsync(HubFileMetadata file, string repoId, string partialPath, Action<HubProgress>? progress, CancellationToken ct)
    {
        var have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
        if (have == file.Size && file.Size > 0)
        {
            return;
        }

        if (have > file.Size)
        {
            File.Delete(partialPath);
            have = 0;
        }

        var url = file.Location;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            var range = have > 0 ? new RangeHeaderValue(have, null) : null;
            using var response = await SendAsync(HttpMethod.Get, url, range, ct, HttpCompletionOption.ResponseHeadersRead);
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                url = new Uri(url, location);
                continue;
            }

            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                File.Delete(partialPath); // the partial file is not a prefix of this object; start over
                have = 0;
                continue;
            }

            await EnsureSuccessAsync(response, repoId, file.Commit, file.File);
            var append = response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == have;
            if (!append)
            {
                have = 0;
            }

            await using var output = new FileStream(partialPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[1 << 16];
            int n;
            progress?.Invoke(new HubProgress(file.File, have, file.Size));
            while ((n = await body.ReadAsync(buffer, ct)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, n), ct);
                have += n;
                progress?.Invoke(new HubProgress(file.File, have, file.Size));
            }

            if (have != file.Size)
            {
                throw new IOException($"{file.File}: the transfer ended at {have} of {file.Size} bytes.");
            }

            return;
        }

        throw new HubException($"{file.Location}: more than {MaxRedirects} redirects.");
    }

    private Uri ResolveUrl(string repoId, string revision, string file) =>
        new(Endpoint, $"{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, RangeHeaderValue? range, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, url);
        // The metadata must describe the stored bytes, not a compressed transfer of them (file_download.py does the same).
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        if (Token is not null && url.Authority == Endpoint.Authority)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }

        request.Headers.Range = range;
        try
        {
            return await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError)
        {
            throw new HubException($"Cannot reach {url.GetLeftPart(UriPartial.Authority)} ({e.Message}). Set HF_ENDPOINT for a mirror; a pull pinned to a commit hash that is already cached needs no network.");
        }
    }

    private static bool IsRedirect(HttpStatusCode code) => (int)code is 301 or 302 or 303 or 307 or 308;

    private static HubFileMetadata Metadata(HttpResponseMessage response, string file, string repoId, Uri location)
    {
        var commit = Header(response, "X-Repo-Commit")
            ?? throw new HubException($"{repoId}/{file}: the Hub sent no X-Repo-Commit header, so the revision cannot be pinned.");
        var etag = Normalize(Header(response, "X-Linked-Etag") ?? Header(response, "ETag"))
            ?? throw new HubException($"{repoId}/{file}: the Hub sent no ETag, so the file cannot be verified or cached.");
        var sizeText = Header(response, "X-Linked-Size");
        var size = sizeText is not null && long.TryParse(sizeText, out var s) ? s : response.Content.Headers.ContentLength
            ?? throw new HubException($"{repoId}/{file}: the Hub sent no size (X-Linked-Size or Content-Length).");
        return new HubFileMetadata(file, commit, etag, size, location);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) || response.Content.Headers.TryGetValues(name, out v) ? v.FirstOrDefault() : null;

    /// <summary>huggingface_hub's <c>_normalize_etag</c>: without a weak <c>W/</c> prefix and without quotes.</summary>
    private static string? Normalize(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string repoId, string revision, string? file)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var code = (int)response.StatusCode;
        var errorCode = Header(response, "X-Error-Code");
        var what = file is null ? $"{repoId}@{revision}" : $"{repoId}@{revision}/{file}";
        throw code switch
        {
            401 or 403 => new HubException(
                $"The Hub refused {what} (HTTP {code}{(errorCode is null ? "" : ", " + errorCode)}). "
                + (Token is null ? "No HF_TOKEN is set. " : "The HF_TOKEN sent does not grant access. ")
                + $"If the model is gated, accept its licence at {RepoPage(repoId)} while logged in, then export HF_TOKEN=<a read token of that account>. "
                + "A private or misspelt repository is refused the same way.", code),
            404 => new HubException(errorCode switch
            {
                "EntryNotFound" => $"{repoId} has no file '{file}' at revision '{revision}' (HTTP 404).",
                "RevisionNotFound" => $"{repoId} has no revision '{revision}' (HTTP 404).",
                _ => $"{what} was not found on {Endpoint} (HTTP 404{(errorCode is null ? "" : ", " + errorCode)}).",
            }, code),
            _ => new HubException($"{response.RequestMessage?.RequestUri}: HTTP {code} {await ReadSnippet(response)}", code),
        };
    }

    private static async Task<string> ReadSnippet(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length > 200 ? text[..200] : text;
    }

    public void Dispose() => _http.Dispose();
}
