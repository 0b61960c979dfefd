using Alpaca.Llm.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Trainer.Model;

/// <summary>
/// Multi-head attention with grouped-query K/V (HF <c>LlamaAttention</c>). Keys: <c>q_proj</c>,
/// <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>, no biases. Projections are built by a factory so LoRA
/// can wrap the ones it targets without changing any parameter name.
/// </summary>
public sealed class LlamaAttention : nn.Module<Tensor, AttentionContext, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> q_proj;
    private readonly nn.Module<Tensor, Tensor> k_proj;
    private readonly nn.Module<Tensor, Tensor> v_proj;
    private readonly nn.Module<Tensor, Tensor> o_proj;
    private readonly int num_heads;
    private readonly int num_key_value_heads;
    private readonly int head_dim;

    public LlamaAttention(LlamaConfig config, ProjectionFactory projections) : base(nameof(LlamaAttention))
    {
        num_heads = config.NHeads;
        num_key_value_heads = config.NKvHeads;
        head_dim = config.HeadDim;
        q_proj = projections.Create("q_proj", config.Dim, num_heads * head_dim);
        k_proj = projections.Create("k_proj", config.Dim, num_key_value_heads * head_dim);
        v_proj = projections.Create("v_proj", config.Dim, num_key_value_heads * head_dim);
        o_proj = projections.Create("o_proj", num_heads * head_dim, config.Dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], time = x.shape[1];
        var q = q_proj.forward(x).view(batch, time, num_heads, head_dim).transpose(1, 2);
        var k = k_proj.forward(x).view(batch, time, num_key_value_heads, head_dim).transpose(1, 2);
        var v = v_proj.forward(x).view(batch, time, num_key_value_heads, head_dim).transpose(1, 2);

        q = RotaryEmbedding.Apply(q, context.Cos, context.Sin);
        k = RotaryEmbedding.Apply(k, context.Cos, context.Sin);

        // TorchSharp's SDPA has no enable_gqa, so each K/V head is repeated for its query group.
        if (num_key_value_heads != num_heads)
        {
            k = k.repeat_interleave(num_heads / num_key_value_heads, dim: 1);
            v = v.repeat_interleave(num_heads / num_key_value_heads, dim: 1);
        }

        // (The parameter really is spelled is_casual in TorchSharp.)
        var attended = context.Mask is null
            ? F.scaled_dot_product_attention(q, k, v, is_casual: true)
            : F.scaled_dot_product_attention(q, k, v, attn_mask: context.Mask);
        var merged = attended.transpose(1, 2).reshape(batch, time, num_heads * head_dim);
        return o_proj.forward(merged).MoveToOuterDisposeScope();
    }
}
