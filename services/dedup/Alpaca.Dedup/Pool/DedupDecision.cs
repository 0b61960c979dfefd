namespace Alpaca.Dedup.Pool;

/// <summary>The decision for one candidate.</summary>
/// <param name="Kept">True when the candidate's ROUGE-L F1 to every pool instruction is ≤ the threshold.</param>
/// <param name="MaxF">The largest F1 against the pool (0 for an empty pool or a token-less candidate).</param>
/// <param name="MostSimilar">Pool position of the first instruction reaching <paramref name="MaxF"/>; -1 for an empty pool.</param>
/// <param name="PoolPosition">The position the candidate took when submitted and kept; -1 otherwise.</param>
/// <param name="Extras">Alpaca-compatible extras, when asked for and the candidate was kept.</param>
public sealed record DedupDecision(bool Kept, double MaxF, int MostSimilar, int PoolPosition, DedupExtras? Extras);

/// <summary>Alpaca's extra fields of a kept instruction (computed over every pool entry, no pruning).</summary>
/// <param name="MostSimilar">The 10 highest-scoring pool entries, highest first; equal scores in pool order.</param>
/// <param name="AverageSimilarity">Mean F1 over the whole pool, summed the way numpy's <c>np.mean</c> does (pairwise); NaN for an empty pool.</param>
public sealed record DedupExtras(IReadOnlyList<SimilarInstruction> MostSimilar, double AverageSimilarity);

/// <summary>A pool instruction and its F1 to a candidate.</summary>
public sealed record SimilarInstruction(int Position, string Instruction, double Score);
