using Alpaca.ServiceDefaults;

namespace Alpaca.Dedup.Api.Grpc;

/// <summary>
/// Configuration section <c>Alpaca:Dedup:Limits</c> (environment: <c>Alpaca__Dedup__Limits__MaxBatchCandidates</c> …):
/// how much one call may ask the dedup service to do. A candidate is scored against the whole pool, so a batch
/// is bounded by count and every text by length; all are checked before any scoring or locking.
/// </summary>
public sealed class DedupLimits
{
    public const string Section = "Alpaca:Dedup:Limits";

    /// <summary>Characters of one instruction (candidate, seed, ScorePair's texts).</summary>
    public int MaxInstructionChars { get; set; } = 100_000;

    /// <summary>Candidates per CheckCandidates or SubmitCandidates call.</summary>
    public int MaxBatchCandidates { get; set; } = 10_000;

    /// <summary>Seed instructions per CreateNamespace call.</summary>
    public int MaxSeedInstructions { get; set; } = 10_000;

    /// <summary>Characters of a candidate id.</summary>
    public int MaxCandidateIdChars { get; set; } = 256;

    public void Validate()
    {
        foreach (var (key, value) in new[] { (nameof(MaxInstructionChars), MaxInstructionChars), (nameof(MaxBatchCandidates), MaxBatchCandidates), (nameof(MaxSeedInstructions), MaxSeedInstructions), (nameof(MaxCandidateIdChars), MaxCandidateIdChars) })
        {
            if (value <= 0)
            {
                throw new InvalidOperationException($"{Section}:{key} = {value} must be positive.");
            }
        }
    }

    public void CheckLength(string text, string what)
    {
        if (text.Length > MaxInstructionChars)
        {
            throw GrpcErrors.InvalidArgument($"The {what} has {text.Length} characters; at most {MaxInstructionChars} are accepted.");
        }
    }

    public void CheckBatch(int count, string field, int max)
    {
        if (count > max)
        {
            throw GrpcErrors.InvalidArgument($"{field} has {count} entries; at most {max} are accepted per call (split the batch).");
        }
    }

    public void CheckId(string id)
    {
        if (id.Length > MaxCandidateIdChars)
        {
            throw GrpcErrors.InvalidArgument($"A candidate id has {id.Length} characters; at most {MaxCandidateIdChars} are accepted.");
        }
    }
}
