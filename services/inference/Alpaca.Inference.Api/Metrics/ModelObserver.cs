using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Api.Metrics;

/// <summary>Records one model's scheduler events into the shared instruments (called on its decode loop).</summary>
internal sealed class ModelObserver(InferenceMetrics metrics, string modelName) : ISchedulerObserver
{
    private readonly KeyValuePair<string, object?> _model = new("model_name", modelName);

    public void Admitted(TimeSpan queueTime, int promptTokens)
    {
        metrics.QueueTime.Record(queueTime.TotalSeconds, _model);
        metrics.PromptTokens.Add(promptTokens, _model);
    }

    public void FirstToken(TimeSpan timeToFirstToken)
    {
        metrics.TimeToFirstToken.Record(timeToFirstToken.TotalSeconds, _model);
        metrics.GenerationTokens.Add(1, _model);
    }

    public void NextToken(TimeSpan interTokenLatency)
    {
        metrics.InterTokenLatency.Record(interTokenLatency.TotalSeconds, _model);
        metrics.GenerationTokens.Add(1, _model);
    }

    public void Finished(SequenceFinishReason reason, TimeSpan endToEnd, int completionTokens)
    {
        // vLLM's finished_reason vocabulary: stop (EOS or stop string), length, abort.
        var label = reason switch
        {
            SequenceFinishReason.Length => "length",
            SequenceFinishReason.Cancelled => "abort",
            _ => "stop",
        };
        metrics.RequestSuccess.Add(1, _model, new("finished_reason", label));
        metrics.EndToEnd.Record(endToEnd.TotalSeconds, _model);
    }

    public void PrefixLookup(int promptTokens, int cachedTokens)
    {
        metrics.PrefixCacheQueries.Add(promptTokens, _model);
        metrics.PrefixCacheHits.Add(cachedTokens, _model);
        metrics.PrefixCacheRequests.Add(1, _model, new("result", cachedTokens > 0 ? "hit" : "miss"));
    }

    public void Speculated(int drafted, int accepted)
    {
        metrics.SpecDraftTokens.Add(drafted, _model);
        metrics.SpecAcceptedTokens.Add(accepted, _model);
    }

    public void Preempted(int cachedTokens) => metrics.Preemptions.Add(1, _model);

    public void Rejected(SubmitOutcome outcome) =>
        metrics.RequestRejected.Add(1, _model, new("reason", outcome == SubmitOutcome.QueueFull ? "queue_full" : "draining"));

    public void Step(int running, int waiting, double kvCacheUsage, int batchTokens, TimeSpan forward)
    {
        if (batchTokens > 0)
        {
            metrics.BatchSize.Record(batchTokens, _model);
            metrics.ForwardTime.Record(forward.TotalSeconds, _model);
        }
    }
}
