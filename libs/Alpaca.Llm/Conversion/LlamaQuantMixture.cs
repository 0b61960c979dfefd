using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// llama.cpp's Q4_K_M and Q5_K_M mixtures: the per-tensor type llama-quantize picks for a dense LLaMA
/// model, transcribed from <c>llama_tensor_get_type</c> in llama.cpp's src/llama-quant.cpp (only the branches
/// these two ftypes and a llama-architecture model without experts reach).
/// </summary>
public static class LlamaQuantMixture
{
    /// <summary>
    /// The type of a 2-D weight (1-D tensors are not quantized at all; the caller keeps them F32).
    /// <paramref name="baseType"/> is the mixture's default: Q4_K for Q4_K_M, Q5_K for Q5_K_M. Rows that are
    /// not whole 256-weight super-blocks get the fallback of <see cref="WeightRecipe.Fallback"/>.
    /// </summary>
    public static GgmlType TypeOf(string name, long rowLength, GgmlType baseType, LlamaConfig config)
    {
        var type = baseType;
        var layer = LlamaTensorNames.LayerOf(name);
        if (name == LlamaTensorNames.Output || (config.TiedEmbeddings && name == LlamaTensorNames.TokenEmbedding))
        {
            // "output.weight" — or token_embd when there is no output tensor, since it then serves as both:
            // Q6_K, or Q8_0 when its rows are not whole super-blocks (`nx % qk_k != 0`).
            type = rowLength % 256 != 0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
        }
        else if (name.EndsWith(".attn_v.weight", StringComparison.Ordinal))
        {
            // Q4_K_M / Q5_K_M: `use_more_bits(i_attention_wv, n_attention_wv)` → Q6_K.
            if (UseMoreBits(layer, config.NLayers))
            {
                type = GgmlType.Q6_K;
            }

            // LLM_TYPE_70B (80 layers with grouped KV heads): attn_v is 8× smaller than attn_q, so Q3_K/Q4_K → Q5_K.
            if (config.NLayers == 80 && config.NKvHeads != config.NHeads && type == GgmlType.Q4_K)
            {
                type = GgmlType.Q5_K;
            }
        }
        else if (name.EndsWith(".ffn_down.weight", StringComparison.Ordinal))
        {
            // Q4_K_M (non-Falcon) and Q5_K_M: `use_more_bits(i_layer, n_layer)` → Q6_K.
            if (UseMoreBits(layer, config.NLayers))
            {
                type = GgmlType.Q6_K;
            }
        }

        // token_embd (untied), attn_q/k/output, ffn_gate/up keep the default type for these two ftypes.
        return WeightRecipe.Fallback(type, rowLength);
    }

    /// <summary>
    /// llama.cpp's <c>use_more_bits</c>: the first and last eighth of the layers, and every third layer in
    /// between, get more bits.
    /// </summary>
    public static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - (layers / 8)) % 3 == 2;
}
