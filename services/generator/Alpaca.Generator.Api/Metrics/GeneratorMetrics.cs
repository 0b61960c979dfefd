using System.Diagnostics.Metrics;
using Alpaca.Generator.Runs;
using CoreProgress = Alpaca.Generator.Runs.RunProgress;

namespace Alpaca.Generator.Api.Metrics;

/// <summary>
/// The generator's own meter (<c>Alpaca.Generator</c>, exported on <c>/metrics</c> with the other
/// <c>Alpaca.*</c> meters): work done by this process, counted from the changes between a run's snapshots, so
/// a resumed run does not count again what an earlier process did. Tagged with <c>run_id</c>: runs are few and
/// long, and a dashboard wants each run's rate and rejection mix.
/// </summary>
public sealed class GeneratorMetrics
{
    public const string MeterName = "Alpaca.Generator";

    private readonly Counter<long> _rounds;
    private readonly Counter<long> _generated;
    private readonly Counter<long> _kept;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _finished;

    public GeneratorMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _rounds = meter.CreateCounter<long>("alpaca.generator.rounds", description: "Teacher rounds processed.");
        _generated = meter.CreateCounter<long>("alpaca.generator.instructions.generated", description: "Instructions parsed from teacher replies.");
        _kept = meter.CreateCounter<long>("alpaca.generator.instructions.kept", description: "Instructions kept (written to a run's data set).");
        _rejected = meter.CreateCounter<long>("alpaca.generator.instructions.rejected", description: "Instructions rejected, by reason.");
        _tokens = meter.CreateCounter<long>("alpaca.generator.teacher.tokens", unit: "{token}", description: "Teacher tokens used, by kind (prompt, completion).");
        _finished = meter.CreateCounter<long>("alpaca.generator.runs.finished", description: "Runs that ended, by state.");
    }

    /// <summary>Counts what changed from <paramref name="previous"/> (null: the first snapshot of this process, counted as the baseline).</summary>
    public void Observe(CoreProgress? previous, CoreProgress current)
    {
        if (previous is null)
        {
            return;
        }

        var run = current.RunId;
        Add(_rounds, current.Rounds - previous.Rounds, run);
        Add(_generated, current.Generated - previous.Generated, run);
        Add(_kept, current.Kept - previous.Kept, run);
        Add(_tokens, current.PromptTokens - previous.PromptTokens, run, "kind", "prompt");
        Add(_tokens, current.CompletionTokens - previous.CompletionTokens, run, "kind", "completion");
        foreach (var (reason, count) in current.RejectedByReason)
        {
            Add(_rejected, count - previous.RejectedByReason.GetValueOrDefault(reason), run, "reason", reason);
        }

        if (current.Status != previous.Status && current.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled)
        {
            _finished.Add(1, new KeyValuePair<string, object?>("state", current.Status.ToString().ToLowerInvariant()));
        }
    }

    private static void Add(Counter<long> counter, long delta, string runId, string? tag = null, string? value = null)
    {
        if (delta <= 0)
        {
            return;
        }

        var run = new KeyValuePair<string, object?>("run_id", runId);
        if (tag is null)
        {
            counter.Add(delta, run);
        }
        else
        {
            counter.Add(delta, run, new KeyValuePair<string, object?>(tag, value));
        }
    }
}
