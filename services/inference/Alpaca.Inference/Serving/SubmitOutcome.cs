namespace Alpaca.Inference.Serving;

/// <summary>The answer of <see cref="ContinuousBatchScheduler.TrySubmit"/>.</summary>
public enum SubmitOutcome
{
    /// <summary>Queued; events follow on the handle.</summary>
    Accepted,

    /// <summary>The wait queue is full; retry after the hint.</summary>
    QueueFull,

    /// <summary>The scheduler no longer takes requests (its model is being replaced or unloaded).</summary>
    Draining,
}
