using System.Diagnostics.Metrics;
using Alpaca.Contracts.V1;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// The trainer's meter (<c>Alpaca.Trainer</c>, exported on <c>/metrics</c> by the service shell): jobs submitted and
/// finished by state, optimizer steps and trained tokens, so dashboards see throughput without parsing events.
/// </summary>
public sealed class TrainerMetrics
{
    public const string MeterName = "Alpaca.Trainer";

    private readonly Counter<long> _submitted;
    private readonly Counter<long> _finished;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _tokens;

    public TrainerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _submitted = meter.CreateCounter<long>("alpaca.trainer.jobs.submitted", description: "Jobs accepted by SubmitJob.");
        _finished = meter.CreateCounter<long>("alpaca.trainer.jobs.finished", description: "Jobs that ended, by state.");
        _steps = meter.CreateCounter<long>("alpaca.trainer.steps", description: "Optimizer steps trained.");
        _tokens = meter.CreateCounter<long>("alpaca.trainer.tokens", unit: "{token}", description: "Non-padding tokens trained.");
    }

    public void Submitted() => _submitted.Add(1);

    public void Finished(JobState state) => _finished.Add(1, new KeyValuePair<string, object?>("state", JobStates.Name(state)));

    public void Step(long tokens)
    {
        _steps.Add(1);
        _tokens.Add(tokens);
    }
}
