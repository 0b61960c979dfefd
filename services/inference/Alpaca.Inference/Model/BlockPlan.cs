using Alpaca.Inference.Kernels;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Model;

/// <summary>
/// What one transformer block's steps need from its weights, worked out once at load: the norm gains in
/// native memory and the form in which each matrix product wants its activations (fp16-rounded for F16
/// weights, Q8 for Q4_0/Q8_0 weights), so the forward pass does no lookups.
/// </summary>
internal sealed unsafe class BlockPlan
{
    public BlockPlan(LayerWeights layer, RunState state)
    {
        Weights = layer;
        AttentionNorm = state.Pin(layer.AttnNorm);
        FfnNorm = state.Pin(layer.FfnNorm);
        QkvReadsHalf = ReadsHalf(layer.AttnQ, layer.AttnK, layer.AttnV);
        OutputProjectionReadsHalf = ReadsHalf(layer.AttnOutput);
        GateUpReadsHalf = ReadsHalf(layer.FfnGate, layer.FfnUp);
        DownReadsHalf = ReadsHalf(layer.FfnDown);
        OutputProjectionQ8 = layer.AttnOutput.ReadsQ8 ? state.AttentionOutputQ8 : null;
        DownQ8 = layer.FfnDown.ReadsQ8 ? state.FfnHiddenQ8 : null;
    }

    public LayerWeights Weights { get; }

    /// <summary><c>blk.N.attn_norm</c> (HF <c>input_layernorm</c>).</summary>
    public float* AttentionNorm { get; }

    /// <summary><c>blk.N.ffn_norm</c> (HF <c>post_attention_layernorm</c>).</summary>
    public float* FfnNorm { get; }

    public bool QkvReadsHalf { get; }

    public bool OutputProjectionReadsHalf { get; }

    public bool GateUpReadsHalf { get; }

    public bool DownReadsHalf { get; }

    /// <summary>Where the attention output is quantized for o_proj (null: o_proj reads floats).</summary>
    public Q8Activations? OutputProjectionQ8 { get; }

    /// <summary>Where silu(gate)·up is quantized for down_proj (null: down_proj reads floats).</summary>
    public Q8Activations? DownQ8 { get; }

    // ggml multiplies F16 weights by fp16-rounded activations (their "vec_dot type"); so do we, when
    // every consumer of the activation is F16 (a mixed F16/F32 set keeps float activations).
    public static bool ReadsHalf(params WeightMatrix[] consumers) => consumers.All(m => m.Type == GgmlType.F16);
}
