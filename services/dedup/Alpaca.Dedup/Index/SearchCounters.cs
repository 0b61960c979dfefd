namespace Alpaca.Dedup.Index;

/// <summary>Work done by one search (or one worker's share of a batch), merged into <see cref="Pool.DedupStats"/>.</summary>
public struct SearchCounters
{
    /// <summary>Postings read past the length/position filter (then checked against the signature bound).</summary>
    public long Touched;

    /// <summary>Postings dropped by a bound (length window, positional or signature) without an LCS.</summary>
    public long Bounded;

    /// <summary>Pairs whose LCS was computed.</summary>
    public long Scored;

    public void Add(in SearchCounters other)
    {
        Touched += other.Touched;
        Bounded += other.Bounded;
        Scored += other.Scored;
    }
}
