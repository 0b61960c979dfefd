using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Trainer.Data;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>
/// The recipe's data when it is not generated: a local file used as it is, a URL fetched and checked by the
/// SHA-256 given for it, or (nothing given) the released alpaca_data.json from its public origin, checked by
/// its pinned digest. Either way the records are validated by the trainer's own reader (so a malformed file
/// fails here, naming the record and line, not minutes later in a job) and the first N are kept.
/// </summary>
internal static class RecipeData
{
    public static async Task<string> ResolveAsync(string? data, string? sha256, string downloads, Action<string> log, CancellationToken cancellationToken)
    {
        if (data is null)
        {
            return await VerifiedDownload.FetchAsync(VerifiedDownload.AlpacaData, downloads, log, cancellationToken);
        }

        if (Uri.TryCreate(data, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            var pinned = sha256 is { Length: > 0 }
                ? new PinnedFile(url, sha256.Trim().ToLowerInvariant(), CacheName(url))
                : url == VerifiedDownload.AlpacaData.Url
                    ? VerifiedDownload.AlpacaData
                    : throw new ArgumentException($"--data {url} is a URL: give its SHA-256 with --data-sha256 HEX, so what is downloaded is checked before it is used.");
            if (pinned.Sha256.Length != 64 || !pinned.Sha256.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"--data-sha256 must be 64 hex digits; got '{sha256}'.");
            }

            return await VerifiedDownload.FetchAsync(pinned, downloads, log, cancellationToken);
        }

        if (sha256 is { Length: > 0 } && !string.Equals(await VerifiedDownload.Sha256Async(data, cancellationToken), sha256.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"SHA-256 mismatch for {data}: it is not the file --data-sha256 names.");
        }

        return Path.GetFullPath(data);
    }

    /// <summary>The first <paramref name="records"/> records (0 = all), validated; throws <see cref="InvalidDataException"/> naming the fault.</summary>
    public static List<AlpacaRecord> Take(string path, int records)
    {
        var all = AlpacaDataReader.Read(path);
        return records > 0 ? all.Take(records).ToList() : all;
    }

    /// <summary>Records as alpaca_data.json (a JSON array of instruction, input, output), the form the trainer reads.</summary>
    public static byte[] Serialize(IEnumerable<AlpacaRecord> records) =>
        Encoding.UTF8.GetBytes(new JsonArray(records.Select(r => (JsonNode)new JsonObject
        {
            ["instruction"] = r.Instruction,
            ["input"] = r.Input,
            ["output"] = r.Output,
        }).ToArray()).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Written to a temporary file and renamed, so an interrupted write never leaves half a data set.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static string CacheName(Uri url)
    {
        var name = Path.GetFileName(url.AbsolutePath);
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
        return "url-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.ToString())))[..12] + "-" + (safe.Length > 0 ? safe : "data");
    }
}
