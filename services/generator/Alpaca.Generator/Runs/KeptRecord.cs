using Alpaca.Generator.Dedup;

namespace Alpaca.Generator.Runs;

/// <summary>An accepted instruction, in acceptance order; the candidate id makes replays idempotent.</summary>
public sealed record KeptRecord(
    string CandidateId,
    string Instruction,
    string Input,
    string Output,
    IReadOnlyList<ScoredInstruction>? MostSimilarInstructions = null,
    double? AvgSimilarityScore = null);
