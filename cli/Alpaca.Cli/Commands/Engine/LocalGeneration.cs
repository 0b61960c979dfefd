using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Model;
using Alpaca.Inference.Serving;
using Alpaca.Inference.Serving.Speculative;
using Alpaca.Llm.Chat;
using InferenceEngine = Alpaca.Inference.Engine;

namespace Alpaca.Cli.Commands.Engine;

/// <summary>
/// What <c>alpaca generate</c> runs: the inference service's own path with one KV slot. The request is
/// validated and built by the service's <see cref="GenerationRunner"/> and decoded by a
/// <see cref="ContinuousBatchScheduler"/> with the service's defaults, so a seed and options give the CLI
/// the very tokens the service gives.
/// </summary>
internal sealed class LocalGeneration : IDisposable
{
    private readonly InferenceEngine _engine;
    private readonly ContinuousBatchScheduler _scheduler;
    private readonly ServedModel _model;
    private readonly InferenceEngine? _draft;

    /// <param name="draft">A draft GGUF for speculative decoding of greedy requests (run on the decode loop alone), or null.</param>
    public LocalGeneration(string path, ModelOptions options, string? draft = null, int draftTokens = 4)
    {
        _engine = InferenceEngine.Load(path, options with { MaxSequences = 1 });
        try
        {
            _draft = draft is null ? null : InferenceEngine.Load(draft, options with { MaxSequences = 1, Threads = 1, ContextLength = _engine.Model.Cache.ContextLength });
            var speculation = _draft is null ? null : new SpeculationOptions { Draft = _draft, Tokens = draftTokens };
            _scheduler = new ContinuousBatchScheduler(_engine, new SchedulerOptions { Speculation = speculation }, Timer, "generate");
        }
        catch
        {
            _draft?.Dispose();
            _engine.Dispose();
            throw;
        }

        _model = new ServedModel(Path.GetFileNameWithoutExtension(path), path, _engine, _scheduler, ModelChat.For(_engine.Vocabulary));
    }

    public InferenceEngine Engine => _engine;

    /// <summary>Time to first token and inter-token times of the request, as the decode loop saw them.</summary>
    public GenerationTimer Timer { get; } = new();

    /// <summary>Runs one request, streaming each delta to <paramref name="onDelta"/>; cancelling ends it as cancelled.</summary>
    public async Task<SequenceCompletion> RunAsync(GenerationSpec spec, Action<SequenceDelta> onDelta, CancellationToken cancellationToken)
    {
        var request = GenerationRunner.Build(spec, _model);
        if (_scheduler.TrySubmit(request, cancellationToken, out var handle) != SubmitOutcome.Accepted)
        {
            throw new InvalidOperationException("The one-slot scheduler refused the only request.");
        }

        return await handle!.ReadToEndAsync(onDelta).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _scheduler.Dispose();
        _draft?.Dispose();
        _engine.Dispose();
    }
}
