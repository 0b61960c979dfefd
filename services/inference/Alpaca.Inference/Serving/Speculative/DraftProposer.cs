using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Inference.Sampling;

namespace Alpaca.Inference.Serving.Speculative;

/// <summary>
/// The draft side of speculative decoding: each speculating sequence has a slot in the draft model's own KV
/// cache, which holds the draft's keys and values for a prefix of the sequence's tokens. <see cref="Propose"/>
/// first feeds the draft every token it has not seen (a whole prompt the first time, reusing the draft's
/// own prefix cache; afterwards the one or two tokens the target added) and then lets it run greedily for
/// each sequence's budget, all sequences batched in one draft forward pass per proposed token. After the
/// target has verified, <see cref="Rollback"/> cuts the draft's cache back to the tokens that were kept.
/// Proposals are the draft's argmax: any proposal is safe (the target decides every token), a better one
/// is only accepted more often. Runs on the decode loop.
/// </summary>
internal sealed class DraftProposer(SpeculationOptions options)
{
    private readonly IEngineBackend _draft = options.Draft.Model;
    private readonly Batch _batch = new();
    private readonly List<Sequence> _active = [];

    public int Tokens { get; } = options.Tokens;

    /// <summary>Positions the draft can hold per sequence: proposals stop short of it.</summary>
    public int ContextLength => _draft.Cache.ContextLength;

    /// <summary>
    /// Fills <c>s.Draft[0..s.DraftBudget)</c> for every sequence with a budget; a sequence for which the draft
    /// has no free slot gets a budget of 0 (it decodes normally this step).
    /// </summary>
    public void Propose(List<Sequence> sequences)
    {
        _active.Clear();
        _batch.Clear();
        foreach (var s in sequences)
        {
            if (s.DraftBudget == 0)
            {
                continue;
            }

            if (s.DraftSlot < 0 && !TryClaim(s))
            {
                s.DraftBudget = 0;
                continue;
            }

            // Catch up: every token up to and including the one the target is fed this step (NextInput at s.Cached).
            var cache = _draft.Cache;
            for (var p = cache.Length(s.DraftSlot); p <= s.Cached; p++)
            {
                _batch.Add(s.TokenAt(p), p, s.DraftSlot, logits: p == s.Cached);
            }

            _active.Add(s);
        }

        for (var step = 0; _active.Count > 0; step++)
        {
            _draft.Forward(_batch);
            _batch.Clear();
            var row = 0;
            for (var i = 0; i < _active.Count; i++)
            {
                var s = _active[i];
                s.Draft[step] = Sampler.ArgMax(_draft.Logits(row++));
            }

            // The next draft pass feeds each sequence's newest proposal, while it still has budget.
            _active.RemoveAll(s => step + 1 >= s.DraftBudget);
            foreach (var s in _active)
            {
                _batch.Add(s.Draft[step], s.Cached + step + 1, s.DraftSlot, logits: true);
            }
        }
    }

    /// <summary>After verification: the draft keeps only the positions the target kept (below <c>s.Cached</c>).</summary>
    public void Rollback(Sequence s)
    {
        if (s.DraftSlot >= 0 && _draft.Cache.Length(s.DraftSlot) > s.Cached)
        {
            _draft.Cache.Truncate(s.DraftSlot, s.Cached);
        }
    }

    /// <summary>The sequence ended or was preempted: its draft slot and blocks go back (full blocks stay cached).</summary>
    public void Release(Sequence s)
    {
        if (s.DraftSlot >= 0)
        {
            _draft.Cache.Free(s.DraftSlot);
            s.DraftSlot = -1;
        }
    }

    private bool TryClaim(Sequence s)
    {
        var cache = _draft.Cache;
        if (!cache.TryAllocate(out var slot))
        {
            return false;
        }

        // The draft's own prefix cache: a preamble the draft has seen before is not recomputed.
        cache.AttachPrefix(slot, s.History, s.Cached);
        if (!cache.TryReserve(slot, s.Cached + 1 + s.DraftBudget))
        {
            cache.Free(slot);
            return false;
        }

        s.DraftSlot = slot;
        return true;
    }
}
