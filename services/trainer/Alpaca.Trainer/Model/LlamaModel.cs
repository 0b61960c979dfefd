using Alpaca.Llm.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>The decoder stack (HF <c>LlamaModel</c>): embed_tokens, layers.N, norm.</summary>
public sealed class LlamaModel : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly LlamaRMSNorm norm;
    private readonly float[] inv_freq;

    public LlamaModel(LlamaConfig config, ProjectionFactory projections) : base(nameof(LlamaModel))
    {
        embed_tokens = nn.Embedding(config.VocabSize, config.Dim);
        layers = new ModuleList<LlamaDecoderLayer>();
        for (var i = 0; i < config.NLayers; i++)
        {
            layers.Add(new LlamaDecoderLayer(config, projections));
        }

        norm = new LlamaRMSNorm(config.Dim, config.RmsNormEps);
        // Not a parameter or buffer: HF keeps inv_freq non-persistent, so checkpoints do not hold it.
        inv_freq = RotaryEmbedding.InverseFrequencies(config);
        RegisterComponents();
    }

    public Tensor EmbeddingWeight => embed_tokens.weight!;

    /// <summary>
    /// Final-norm hidden states [B, T, hidden] for token ids [B, T]. Positions default to 0..T-1;
    /// packed batches pass their own (restarting per example) and a block-diagonal causal mask.
    /// </summary>
    public Tensor forward(Tensor inputIds, Tensor? positionIds = null, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        long batch = inputIds.shape[0], time = inputIds.shape[1];
        positionIds ??= arange(time, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0).expand(batch, time);

        var h = embed_tokens.forward(inputIds);
        var (cos, sin) = RotaryEmbedding.CosSin(positionIds, inv_freq, h.dtype);
        var context = new AttentionContext(cos, sin, attentionMask);
        foreach (var layer in layers)
        {
            h = layer.forward(h, context);
        }

        return norm.forward(h).MoveToOuterDisposeScope();
    }
}
