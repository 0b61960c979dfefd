using System.Text.RegularExpressions;

namespace Alpaca.Llm.Hub;

/// <summary>Which of a repository's files a reference means.</summary>
internal static partial class HubFileSelection
{
    /// <summary>What a safetensors model needs at the top of the repository: weights, index, config and tokenizer files.</summary>
    public static List<string> ModelFiles(string repoId, IReadOnlyList<string> files)
    {
        var top = files.Where(f => !f.Contains('/', StringComparison.Ordinal)).ToList();
        var chosen = top.Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)
            || f.EndsWith(".model", StringComparison.Ordinal) || f.EndsWith(".txt", StringComparison.Ordinal) || f.EndsWith(".tiktoken", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        if (!chosen.Any(f => f.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            var ggufs = files.Where(IsGguf).ToList();
            throw new HubException(ggufs.Count > 0
                ? $"{repoId} holds GGUF files, not a safetensors model: name one as {repoId}:QUANT or {repoId}/FILE ({string.Join(", ", ggufs.Take(12))})."
                : $"{repoId} has no *.safetensors weights at the top of the repository{(files.Any(f => f.EndsWith(".bin", StringComparison.Ordinal)) ? " (only PyTorch .bin files, which are not read here)" : "")}.");
        }

        return chosen;
    }

    /// <summary>
    /// The GGUF whose file name carries <paramref name="quant"/> as a whole token (case-insensitive: <c>Q4_K</c> does not
    /// pick <c>Q4_K_M</c>); the parts of one split GGUF (<c>-00001-of-00003.gguf</c>) count as one choice.
    /// </summary>
    public static List<string> Quantization(string repoId, string quant, IReadOnlyList<string> files)
    {
        var pattern = new Regex($@"(?<![A-Za-z0-9]){Regex.Escape(quant)}(?![A-Za-z0-9_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var ggufs = files.Where(IsGguf).ToList();
        var matches = ggufs.Where(f => pattern.IsMatch(Path.GetFileName(f))).Order(StringComparer.Ordinal).ToList();
        if (matches.Count == 0)
        {
            throw new HubException(ggufs.Count == 0
                ? $"{repoId} has no GGUF files."
                : $"{repoId} has no GGUF for '{quant}'; it has: {string.Join(", ", ggufs)}.");
        }

        var sets = matches.GroupBy(f => SplitPart().Replace(f, "")).ToList();
        if (sets.Count > 1)
        {
            throw new HubException($"{repoId}:{quant} is ambiguous; name one file as {repoId}/FILE: {string.Join(", ", matches)}.");
        }

        return matches;
    }

    private static bool IsGguf(string f) => f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"-\d{5}-of-\d{5}(?=\.gguf$)", RegexOptions.IgnoreCase)]
    private static partial Regex SplitPart();
}
