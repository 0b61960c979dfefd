namespace Alpaca.Inference.Serving;

/// <summary>
/// Hooks for metrics, called on the decode-loop thread (keep them cheap). The engine library stays free
/// of any metrics dependency; the service implements this with System.Diagnostics.Metrics.
/// </summary>
public interface ISchedulerObserver
{
    /// <summary>A request was admitted to a KV slot after waiting <paramref name="queueTime"/>.</summary>
    void Admitted(TimeSpan queueTime, int promptTokens);

    /// <summary>The first token of a request, <paramref name="timeToFirstToken"/> after it was submitted.</summary>
    void FirstToken(TimeSpan timeToFirstToken);

    /// <summary>A later token, <paramref name="interTokenLatency"/> after the previous one.</summary>
    void NextToken(TimeSpan interTokenLatency);

    /// <summary>A request ended.</summary>
    void Finished(SequenceFinishReason reason, TimeSpan endToEnd, int completionTokens);

    /// <summary>A request was refused at submission.</summary>
    void Rejected(SubmitOutcome outcome);

    /// <summary>State after each step (and when idle, with no tokens): the forward pass's share of the step is <paramref name="forward"/>.</summary>
    void Step(int running, int waiting, double kvCacheUsage, int batchTokens, TimeSpan forward);

    /// <summary>At admission of a new request: <paramref name="cachedTokens"/> of its <paramref name="promptTokens"/> came from the prefix cache (0: a miss).</summary>
    void PrefixLookup(int promptTokens, int cachedTokens)
    {
    }

    /// <summary>Speculative decoding: a sequence's step verified <paramref name="drafted"/> draft tokens and kept <paramref name="accepted"/> of them.</summary>
    void Speculated(int drafted, int accepted)
    {
    }

    /// <summary>A running sequence gave up its KV blocks to others and will be recomputed (<paramref name="cachedTokens"/> positions lost).</summary>
    void Preempted(int cachedTokens)
    {
    }
}
