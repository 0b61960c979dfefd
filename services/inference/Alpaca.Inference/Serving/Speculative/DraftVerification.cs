using Alpaca.Inference.Backends;

namespace Alpaca.Inference.Serving.Speculative;

/// <summary>
/// The target's side of speculative decoding, greedy-exact. A speculating sequence fed its last token t0 at
/// position c and the draft's proposals d1..dk at c+1..c+k, with logits for all k+1 positions. Row j's
/// logits are exactly what plain decoding computes at position c+j if d1..dj are the tokens plain decoding
/// would have produced, so the rows are sampled in order with the ordinary <see cref="SequenceAdvance"/>
/// (penalties, min_tokens, stops, streaming and log-probabilities unchanged) for as long as the token it
/// picks equals the next proposal: each step yields 1 to k+1 tokens and the same text as without a draft.
/// Only greedy requests speculate: a sampled token would need the speculative-sampling acceptance rule
/// (Leviathan et al. 2023), which keeps the distribution but not a seed's exact tokens.
/// </summary>
internal static class DraftVerification
{
    /// <summary>
    /// Draft tokens worth proposing for a decoding sequence: none past max_tokens (row k yields the
    /// (k+1)-th token), none at positions where the context ends it (a token at position ≥ context − 2 is
    /// the last one plain decoding produces), none past the draft's own context.
    /// </summary>
    public static int Budget(Sequence s, int tokens, int contextLength, int draftContextLength) =>
        Math.Max(0, Math.Min(Math.Min(tokens, s.Request.MaxTokens - s.Generated - 1), Math.Min(contextLength - 2 - s.Cached, draftContextLength - s.Cached)));

    /// <summary>
    /// Samples rows <paramref name="first"/>.. of the target's logits in order; stops when the sequence ends
    /// or its token differs from the next proposal. <paramref name="advanced"/> = tokens produced (accepted
    /// proposals + 1). Leaves <c>s.Cached</c> at the position of the sequence's next input.
    /// </summary>
    public static SequenceFinishReason? Walk(SequenceAdvance advance, IEngineBackend model, Sequence s, int first, int rows, out int advanced)
    {
        var start = s.Cached;
        for (var j = 0; ; j++)
        {
            // As in plain decoding: the fed token at start + j is now cached.
            s.Cached = start + j + 1;
            var reason = advance.Advance(s, model.Logits(first + j));
            if (reason is not null || j == rows - 1 || s.NextInput != s.Draft[j])
            {
                advanced = j + 1;
                return reason;
            }
        }
    }

    /// <summary>
    /// Forgets the target's keys and values of rejected proposals (positions ≥ <c>s.Cached</c>). The block
    /// holding the cut was first written in this step, so no other sequence holds it and nothing is copied;
    /// whole blocks past the cut return to the pool (full ones stay in the prefix cache: their keys and values
    /// are exact for the tokens they were registered with).
    /// </summary>
    public static void Rollback(IKvSlots cache, Sequence s)
    {
        if (cache.Length(s.Slot) > s.Cached)
        {
            cache.Truncate(s.Slot, s.Cached);
        }
    }
}
