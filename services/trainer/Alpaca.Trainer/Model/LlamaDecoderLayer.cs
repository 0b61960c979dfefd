using Alpaca.Llm.Models;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>Pre-norm transformer block (HF <c>LlamaDecoderLayer</c>).</summary>
public sealed class LlamaDecoderLayer : nn.Module<Tensor, AttentionContext, Tensor>
{
    private readonly LlamaRMSNorm input_layernorm;
    private readonly LlamaAttention self_attn;
    private readonly LlamaRMSNorm post_attention_layernorm;
    private readonly LlamaMLP mlp;

    public LlamaDecoderLayer(LlamaConfig config, ProjectionFactory projections) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new LlamaRMSNorm(config.Dim, config.RmsNormEps);
        self_attn = new LlamaAttention(config, projections);
        post_attention_layernorm = new LlamaRMSNorm(config.Dim, config.RmsNormEps);
        mlp = new LlamaMLP(config, projections);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.forward(input_layernorm.forward(x), context);
        var output = h + mlp.forward(post_attention_layernorm.forward(h));
        return output.MoveToOuterDisposeScope();
    }
}
