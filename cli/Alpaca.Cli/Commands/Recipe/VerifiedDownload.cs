using System.Security.Cryptography;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>
/// A public file fetched once into a cache folder and used only when its SHA-256 is the one pinned for it
/// (../shared/data/SOURCES.md records the origins and digests). The bytes are hashed as they stream to a
/// temporary file, which is renamed into place only after the digest matched, so a tampered or truncated
/// download never reaches the cache; a cached file is hashed again before each use.
/// </summary>
public static class VerifiedDownload
{
    /// <summary>stanford_alpaca's released data: the origin and digest the Hugging Face loader pins.</summary>
    public static readonly PinnedFile AlpacaData = new(
        new Uri("https://raw.githubusercontent.com/tatsu-lab/stanford_alpaca/main/alpaca_data.json"),
        "2eddafc6b977608d778aaab8dfc7e50e547b3af9826dfb9e909d9fc362e4a419", "alpaca_data.json");

    /// <summary>The Self-Instruct user-oriented suite (252 instructions) at the commit SOURCES.md names.</summary>
    public static readonly PinnedFile UserOrientedSuite = new(
        new Uri("https://raw.githubusercontent.com/yizhongw/self-instruct/0b26ccaa415992100fa32df62d41b994cf928e23/human_eval/user_oriented_instructions.jsonl"),
        "81d60a117db495cecedecd9193504fd07c5b5a42f6699ef6b0f9da10fc22f42e", "user_oriented_instructions.jsonl");

    /// <summary>text-davinci-003's answers to that suite, in the same order.</summary>
    public static readonly PinnedFile DavinciPredictions = new(
        new Uri("https://raw.githubusercontent.com/yizhongw/self-instruct/0b26ccaa415992100fa32df62d41b994cf928e23/human_eval/predictions/text-davinci-003_predictions.jsonl"),
        "9fbf9229c917f2c832399e4d474f0ed1a4f367fae61e5eee814f3db687e0d584", "text-davinci-003_predictions.jsonl");

    /// <summary>The local path of <paramref name="file"/> in <paramref name="cacheDir"/>, downloaded and verified when needed.</summary>
    public static async Task<string> FetchAsync(PinnedFile file, string cacheDir, Action<string>? log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(cacheDir);
        var path = Path.Combine(cacheDir, file.FileName);
        if (File.Exists(path))
        {
            if (string.Equals(await Sha256Async(path, cancellationToken), file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return path;
            }

            // A cache that no longer matches (edited, or from another pin) is fetched again, never trusted.
            File.Delete(path);
        }

        log?.Invoke($"fetching {file.Url} (SHA-256 {file.Sha256[..12]}…)");
        var temp = path + ".part";
        string actual;
        long bytes;
        using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) })
        {
            try
            {
                using var response = await http.GetAsync(file.Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    throw new IOException($"GET {file.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                }

                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[1 << 16];
                    int read;
                    while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }

                    output.Flush(flushToDisk: true);
                    actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                    bytes = output.Length;
                }
            }
            catch (HttpRequestException e)
            {
                throw new IOException($"could not fetch {file.Url}: {e.Message} (offline? pass a local copy with --data FILE)", e);
            }
        }

        if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(temp);
            throw new InvalidDataException(
                $"SHA-256 mismatch for {file.Url}: expected {file.Sha256}, got {actual} ({bytes:N0} bytes). The file was not used; check the URL or the pinned digest.");
        }

        File.Move(temp, path, overwrite: true);
        return path;
    }

    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}

/// <summary>A public file's origin, its SHA-256 (lower-case hex) and the name it is cached under.</summary>
public sealed record PinnedFile(Uri Url, string Sha256, string FileName);
