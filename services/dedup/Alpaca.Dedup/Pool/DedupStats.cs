using Alpaca.Dedup.Index;

namespace Alpaca.Dedup.Pool;

/// <summary>Work counters (thread-safe), to show how few of the reference's pairs need an LCS.</summary>
public sealed class DedupStats
{
    private long _decided;
    private long _kept;
    private long _total;
    private long _touched;
    private long _bounded;
    private long _scored;

    public long Decided => Interlocked.Read(ref _decided);

    public long Kept => Interlocked.Read(ref _kept);

    /// <summary>Candidate × pool-entry pairs the reference scores (every one).</summary>
    public long PairsTotal => Interlocked.Read(ref _total);

    /// <summary>
    /// Pairs read past the length/position filter (a posting inside the length window, or a block member);
    /// with the extras, every pair. Pairs sharing no element are never met at all.
    /// </summary>
    public long PairsTouched => Interlocked.Read(ref _touched);

    /// <summary>Postings dropped by a bound (length window, positional or signature) without an LCS.</summary>
    public long PairsBounded => Interlocked.Read(ref _bounded);

    /// <summary>Pairs whose LCS was computed.</summary>
    public long PairsScored => Interlocked.Read(ref _scored);

    /// <summary>Pairs never scored.</summary>
    public long PairsAvoided => PairsTotal - PairsScored;

    internal void AddDecision(long poolSize, bool kept)
    {
        Interlocked.Increment(ref _decided);
        Interlocked.Add(ref _total, poolSize);
        if (kept)
        {
            Interlocked.Increment(ref _kept);
        }
    }

    internal void Add(in SearchCounters counters)
    {
        Interlocked.Add(ref _touched, counters.Touched);
        Interlocked.Add(ref _bounded, counters.Bounded);
        Interlocked.Add(ref _scored, counters.Scored);
    }
}
