using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Api.Metrics;

/// <summary>
/// Serving metrics named after vLLM's (<c>vllm:num_requests_running</c> → <c>alpaca_num_requests_running</c>;
/// Prometheus names cannot take our meter's dots, and OpenTelemetry instrument names cannot take colons),
/// each labelled <c>model_name</c> as vLLM does. Exported on <c>/metrics</c> by the service shell.
/// </summary>
public sealed class InferenceMetrics : IDisposable
{
    public const string MeterName = "Alpaca.Inference";

    // vLLM's bucket boundaries (vllm/v1/metrics/loggers.py), in seconds.
    private static readonly double[] TtftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] ItlBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
    private static readonly double[] RequestBuckets = [0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0];

    private readonly Meter _meter = new(MeterName);
    private readonly ConcurrentDictionary<ServedModel, byte> _models = new();

    public InferenceMetrics()
    {
        _meter.CreateObservableGauge("alpaca_num_requests_running", () => Observe(m => m.Scheduler.Running), "{request}", "Requests holding a KV cache slot (the running batch).");
        _meter.CreateObservableGauge("alpaca_num_requests_waiting", () => Observe(m => m.Scheduler.Waiting), "{request}", "Requests waiting for a KV cache slot.");
        _meter.CreateObservableGauge("alpaca_kv_cache_usage_perc", () => Observe(m => m.Scheduler.KvCacheUsage), null, "Filled KV cache positions over all positions, 0..1.");
        // An info metric (value 1), as Prometheus exporters label build info: which engine backend and device serve each model.
        _meter.CreateObservableGauge("alpaca_model_backend_info", () => _models.Keys.Select(m => new Measurement<int>(1,
            new KeyValuePair<string, object?>("model_name", m.Name),
            new KeyValuePair<string, object?>("backend", m.Engine.Model.Backend),
            new KeyValuePair<string, object?>("device", m.Engine.Model.Device),
            new KeyValuePair<string, object?>("weight_type", m.Engine.Model.WeightType))), null, "1 per served model, labelled with the engine backend (cpu, torch), device (cpu, cuda:N) and weight type.");
        _meter.CreateObservableGauge("alpaca_kv_cache_slots", () => Observe(m => m.Scheduler.Slots), "{sequence}", "KV cache slots (most sequences decoded together).");
        TimeToFirstToken = _meter.CreateHistogram("alpaca_time_to_first_token_seconds", "s", "Time from submission to the first generated token.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TtftBuckets });
        InterTokenLatency = _meter.CreateHistogram("alpaca_inter_token_latency_seconds", "s", "Time between consecutive tokens of a request.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ItlBuckets });
        EndToEnd = _meter.CreateHistogram("alpaca_e2e_request_latency_seconds", "s", "Time from submission to the end of a request.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        QueueTime = _meter.CreateHistogram("alpaca_request_queue_time_seconds", "s", "Time a request waited for a KV cache slot.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        BatchSize = _meter.CreateHistogram("alpaca_batch_tokens", "{token}", "Tokens per forward pass (decode tokens plus the prefill chunk).", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        ForwardTime = _meter.CreateHistogram("alpaca_forward_duration_seconds", "s", "Time of one forward pass (one scheduler step's model work; the rest is sampling and streaming).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5] });
        GenerationTokens = _meter.CreateCounter<long>("alpaca_generation_tokens", "{token}", "Generated tokens.");
        PromptTokens = _meter.CreateCounter<long>("alpaca_prompt_tokens", "{token}", "Prompt tokens processed.");
        RequestSuccess = _meter.CreateCounter<long>("alpaca_request_success", "{request}", "Finished requests by finished_reason (stop, length, abort).");
        PrefixCacheQueries = _meter.CreateCounter<long>("alpaca_prefix_cache_queries", "{token}", "Prompt tokens of admitted requests looked up in the prefix cache.");
        PrefixCacheHits = _meter.CreateCounter<long>("alpaca_prefix_cache_hits", "{token}", "Prompt tokens served from the prefix cache (not prefilled).");
        PrefixCacheRequests = _meter.CreateCounter<long>("alpaca_prefix_cache_requests", "{request}", "Admitted requests by prefix-cache result (hit, miss).");
        Preemptions = _meter.CreateCounter<long>("alpaca_num_preemptions", "{sequence}", "Running sequences preempted (KV blocks given up, recomputed later) when the KV block pool ran out.");
        RequestRejected = _meter.CreateCounter<long>("alpaca_request_rejected", "{request}", "Requests refused at submission by reason (queue_full, draining).");
        SpecDraftTokens = _meter.CreateCounter<long>("alpaca_spec_decode_num_draft_tokens", "{token}", "Speculative decoding: draft tokens proposed and verified by the target.");
        SpecAcceptedTokens = _meter.CreateCounter<long>("alpaca_spec_decode_num_accepted_tokens", "{token}", "Speculative decoding: draft tokens accepted (the target's own greedy choice).");
        _meter.CreateObservableGauge(
            "alpaca_spec_decode_draft_acceptance_rate",
            () => _models.Keys.Where(m => m.Scheduler.DraftTokens > 0).Select(m => new Measurement<double>((double)m.Scheduler.AcceptedDraftTokens / m.Scheduler.DraftTokens, new KeyValuePair<string, object?>("model_name", m.Name))),
            null,
            "Speculative decoding: accepted over proposed draft tokens since the model was loaded, 0..1.");
    }

    internal Counter<long> SpecDraftTokens { get; }

    internal Counter<long> SpecAcceptedTokens { get; }

    internal Histogram<double> TimeToFirstToken { get; }

    internal Histogram<double> InterTokenLatency { get; }

    internal Histogram<double> EndToEnd { get; }

    internal Histogram<double> QueueTime { get; }

    internal Histogram<int> BatchSize { get; }

    internal Histogram<double> ForwardTime { get; }

    internal Counter<long> GenerationTokens { get; }

    internal Counter<long> PromptTokens { get; }

    internal Counter<long> RequestSuccess { get; }

    internal Counter<long> RequestRejected { get; }

    internal Counter<long> PrefixCacheQueries { get; }

    internal Counter<long> PrefixCacheHits { get; }

    internal Counter<long> PrefixCacheRequests { get; }

    internal Counter<long> Preemptions { get; }

    /// <summary>The scheduler hooks for one model (its measurements carry <c>model_name</c>).</summary>
    public ISchedulerObserver ObserverFor(string modelName) => new ModelObserver(this, modelName);

    public void Track(ServedModel model) => _models.TryAdd(model, 0);

    public void Untrack(ServedModel model) => _models.TryRemove(model, out _);

    private IEnumerable<Measurement<T>> Observe<T>(Func<ServedModel, T> value)
        where T : struct =>
        _models.Keys.Select(m => new Measurement<T>(value(m), new KeyValuePair<string, object?>("model_name", m.Name)));

    public void Dispose() => _meter.Dispose();
}
