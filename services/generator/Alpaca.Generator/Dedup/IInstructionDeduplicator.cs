namespace Alpaca.Generator.Dedup;

/// <summary>A parsed, filtered instruction waiting for its ROUGE-L decision.</summary>
/// <param name="CandidateId">Stable within the run (round, prompt and segment), so a resubmission after a crash is recognised.</param>
public sealed record CandidateInstruction(string CandidateId, string Instruction, string Input, string Output);

/// <summary>A pool instruction and its ROUGE-L F1 to the candidate.</summary>
public sealed record ScoredInstruction(string Instruction, double Score);

/// <summary>The dedup decision for one candidate.</summary>
/// <param name="Kept">True when ROUGE-L F1 ≤ 0.7 against every instruction of the namespace's pool.</param>
/// <param name="MaxF">Largest F1 against the pool.</param>
/// <param name="MostSimilarInstruction">The pool instruction reaching <paramref name="MaxF"/>, when known.</param>
/// <param name="MostSimilarInstructions">Extras (kept candidates, when asked): the 10 most similar, highest first.</param>
/// <param name="AvgSimilarityScore">Extras: mean F1 over the whole pool.</param>
public sealed record DedupVerdict(
    string CandidateId,
    bool Kept,
    double MaxF,
    string? MostSimilarInstruction = null,
    IReadOnlyList<ScoredInstruction>? MostSimilarInstructions = null,
    double? AvgSimilarityScore = null);

/// <summary>
/// Alpaca's greedy ROUGE-L dedup as a service: each run has its own namespace (pool), seeded with the seed
/// instructions; candidates are decided in order and a kept one joins the pool at once. Implemented in
/// process (<see cref="InProcessDeduplicator"/>) for the embedded default and through the dedup service
/// (pub/sub) in the platform.
/// </summary>
public interface IInstructionDeduplicator
{
    /// <summary>Creates the namespace with these seeds when it does not exist; otherwise leaves it as it is.</summary>
    Task EnsureNamespaceAsync(string runNamespace, IReadOnlyList<string> seedInstructions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decides candidates in order (one verdict each, same order). Idempotent by candidate id: a candidate
    /// already decided gets its earlier verdict back and is not decided again.
    /// </summary>
    Task<DedupVerdict[]> SubmitAsync(string runNamespace, IReadOnlyList<CandidateInstruction> candidates, bool withExtras, CancellationToken cancellationToken = default);
}
