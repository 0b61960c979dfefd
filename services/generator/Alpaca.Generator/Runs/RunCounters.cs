using System.Text.Json.Serialization;

namespace Alpaca.Generator.Runs;

/// <summary>A run's counters; also used as the delta one round adds.</summary>
public sealed class RunCounters
{
    /// <summary>Rounds processed.</summary>
    public long Rounds { get; set; }

    /// <summary>Items parsed from teacher replies (non-empty <c>###</c> segments), before filters and dedup.</summary>
    public long Generated { get; set; }

    /// <summary>Kept instructions (the length of the kept log).</summary>
    public long Kept { get; set; }

    /// <summary>Rejections by <see cref="Parsing.RejectionReasons.Key"/>.</summary>
    public Dictionary<string, long> RejectedByReason { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Items fixed (not rejected) by a cleaning check, by fix name.</summary>
    public Dictionary<string, long> CleanedByReason { get; set; } = new(StringComparer.Ordinal);

    public long PromptTokens { get; set; }

    public long CompletionTokens { get; set; }

    /// <summary>Teacher requests retried (429, 5xx, timeouts, transport errors).</summary>
    public long TeacherRetries { get; set; }

    /// <summary>Requests retried with max_tokens × 0.8 after "context exceeded".</summary>
    public long ContextShrinks { get; set; }

    /// <summary>Teacher replies that could not be read (not JSON, no choices, no text).</summary>
    public long GarbageReplies { get; set; }

    /// <summary>Rounds that failed because the teacher was unreachable, and were retried.</summary>
    public long FailedRounds { get; set; }

    /// <summary>Candidates the dedup kept after the target was already reached in the final round (not in the output).</summary>
    public long Surplus { get; set; }

    [JsonIgnore]
    public long RejectedTotal => RejectedByReason.Values.Sum();

    public void Reject(string reason, long n = 1) => RejectedByReason[reason] = RejectedByReason.GetValueOrDefault(reason) + n;

    public void Clean(string fix, long n = 1) => CleanedByReason[fix] = CleanedByReason.GetValueOrDefault(fix) + n;

    /// <summary>Adds a round's delta (Kept is set from the kept log, not added).</summary>
    public void Add(RunCounters d)
    {
        Rounds += d.Rounds;
        Generated += d.Generated;
        PromptTokens += d.PromptTokens;
        CompletionTokens += d.CompletionTokens;
        TeacherRetries += d.TeacherRetries;
        ContextShrinks += d.ContextShrinks;
        GarbageReplies += d.GarbageReplies;
        FailedRounds += d.FailedRounds;
        Surplus += d.Surplus;
        foreach (var (k, v) in d.RejectedByReason)
        {
            Reject(k, v);
        }

        foreach (var (k, v) in d.CleanedByReason)
        {
            Clean(k, v);
        }
    }

    public RunCounters Clone()
    {
        var c = (RunCounters)MemberwiseClone();
        c.RejectedByReason = new Dictionary<string, long>(RejectedByReason, StringComparer.Ordinal);
        c.CleanedByReason = new Dictionary<string, long>(CleanedByReason, StringComparer.Ordinal);
        return c;
    }
}
