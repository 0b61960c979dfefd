namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// SentencePiece scores recovered from a BPE merge list, for LLaMA vocabularies shipped as pieces + merges
/// without scores (HF <c>tokenizer.json</c> with byte_fallback, llama-tokenizer-js).
/// </summary>
/// <remarks>
/// HF's SentencePiece converter writes merges grouped by the merged piece, pieces in descending score
/// order. So the position of the first merge that produces a piece orders pieces exactly as their scores
/// did, and the SPM algorithm only ever compares scores of merged pieces. We set
/// <c>score(piece) = -(index of its first merge)</c>. Pieces no merge produces cannot be reached by merging
/// either; they get <c>-(merges + id)</c> (below every mergeable piece) and control/byte/unknown
/// tokens get 0, as in LLaMA's own <c>tokenizer.model</c>.
/// </remarks>
public static class MergeScores
{
    public static float[] Derive(IReadOnlyList<string> tokens, IReadOnlyList<TokenType> types, IEnumerable<(string Left, string Right)> merges)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(merges);
        var firstMerge = new Dictionary<string, int>(StringComparer.Ordinal);
        var count = 0;
        foreach (var (left, right) in merges)
        {
            firstMerge.TryAdd(left + right, count++);
        }

        var scores = new float[tokens.Count];
        for (var id = 0; id < tokens.Count; id++)
        {
            if (types[id] is not TokenType.Normal)
            {
                continue;
            }

            scores[id] = firstMerge.TryGetValue(tokens[id], out var index) ? -index : -(count + id);
        }

        return scores;
    }

    /// <summary>Splits a merge written as "left right" (GGUF and older tokenizer.json).</summary>
    public static (string Left, string Right) ParseMerge(string merge)
    {
        // llama.cpp splits at the first space after position 0, so a left part may itself be a space.
        var space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
        if (space < 0)
        {
            throw new FormatException($"Merge '{merge}' is not of the form 'left right'.");
        }

        return (merge[..space], merge[(space + 1)..]);
    }
}
