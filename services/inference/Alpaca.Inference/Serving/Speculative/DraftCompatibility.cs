using Alpaca.Llm.Tokenizers;

namespace Alpaca.Inference.Serving.Speculative;

/// <summary>
/// Whether a draft model can propose tokens for a target: the draft reads and writes the target's token ids,
/// so both must give every id the same meaning — the same tokenizer kind, the same number of tokens (and
/// logits), the same text and type for every id, the same BOS and EOS. llama.cpp's speculative example
/// checks the same things (it tolerates a few extra tokens; we do not, so a proposal is always a target id).
/// </summary>
public static class DraftCompatibility
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first difference.</summary>
    public static void Check(Engine target, Engine draft)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(draft);
        var t = target.Vocabulary;
        var d = draft.Vocabulary;
        if (t.Model != d.Model)
        {
            throw Differs($"the draft's tokenizer is '{d.Model}' and the target's '{t.Model}'");
        }

        if (t.Count != d.Count || target.Model.VocabSize != draft.Model.VocabSize)
        {
            throw Differs($"the draft has {d.Count} tokens ({draft.Model.VocabSize} logits) and the target {t.Count} ({target.Model.VocabSize} logits)");
        }

        for (var id = 0; id < t.Count; id++)
        {
            if (!string.Equals(t.Tokens[id], d.Tokens[id], StringComparison.Ordinal))
            {
                throw Differs($"token {id} is {Show(d.Tokens[id])} in the draft and {Show(t.Tokens[id])} in the target");
            }

            if (t.Types[id] != d.Types[id])
            {
                throw Differs($"token {id} ({Show(t.Tokens[id])}) has type {d.Types[id]} in the draft and {t.Types[id]} in the target");
            }
        }

        if (target.Tokenizer.BosId != draft.Tokenizer.BosId || target.Tokenizer.EosId != draft.Tokenizer.EosId)
        {
            throw Differs($"BOS/EOS are {draft.Tokenizer.BosId}/{draft.Tokenizer.EosId} in the draft and {target.Tokenizer.BosId}/{target.Tokenizer.EosId} in the target");
        }
    }

    private static ArgumentException Differs(string what) =>
        new($"The draft model's vocabulary is not the target's: {what}. A draft must use the same tokenizer as the model it speeds up.");

    private static string Show(string token) => "'" + token.Replace("\n", "\\n", StringComparison.Ordinal) + "'";
}
