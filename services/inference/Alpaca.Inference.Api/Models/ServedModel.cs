using Alpaca.Contracts.V1;
using Alpaca.Inference.Model;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Chat;

namespace Alpaca.Inference.Api.Models;

/// <summary>A loaded model under a name: its engine and the scheduler that batches its requests.</summary>
public sealed class ServedModel(string name, string path, Engine engine, ContinuousBatchScheduler scheduler, ModelChat chat)
{
    public string Name { get; } = name;

    public string Path { get; } = path;

    public Engine Engine { get; } = engine;

    public ContinuousBatchScheduler Scheduler { get; } = scheduler;

    /// <summary>How chat requests are prompted (the model's own template or Alpaca) and its end-of-turn tokens.</summary>
    public ModelChat Chat { get; } = chat;

    /// <summary>The draft model of speculative decoding (disposed with the model), or null.</summary>
    public Engine? Draft { get; init; }

    public string? DraftPath { get; init; }

    /// <summary>Draft tokens per step (0 without a draft).</summary>
    public int DraftTokens { get; init; }

    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    public ModelState State => Scheduler.IsDraining ? ModelState.Draining : ModelState.Ready;

    public ModelInfo Describe(bool isDefault)
    {
        var model = Engine.Model;
        var config = model.Config;
        return new ModelInfo
        {
            Name = Name,
            Path = Path,
            Architecture = "llama",
            ContextLength = Scheduler.ContextLength,
            Quantization = model.WeightType,
            ParameterCount = config.ParameterCount,
            VocabSize = config.VocabSize,
            EmbeddingLength = config.Dim,
            BlockCount = config.NLayers,
            HeadCount = config.NHeads,
            HeadCountKv = config.NKvHeads,
            State = State,
            Device = model.Device,
            Backend = model.Backend,
            Dtype = model.Backend == "cpu" ? string.Empty : model.WeightType.ToLowerInvariant(),
            WeightBytes = model.WeightBytes,
            IsDefault = isDefault,
            ChatTemplate = Chat.DefaultKind,
            KvCacheType = model is Transformer cpu ? KvCacheTypes.Name(cpu.KvStorage.Type) : string.Empty,
            DraftModel = DraftPath ?? string.Empty,
            DraftTokens = DraftTokens,
        };
    }
}
