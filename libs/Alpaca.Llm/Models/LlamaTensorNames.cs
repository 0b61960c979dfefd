using System.Globalization;
using System.Text.RegularExpressions;

namespace Alpaca.Llm.Models;

/// <summary>
/// LLaMA tensor names in GGUF (llama.cpp) and Hugging Face (transformers) spelling, the mapping
/// between them, and the expected shapes (ggml ne order: ne0 = input/contiguous dimension).
/// </summary>
public static partial class LlamaTensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";

    public static string AttnNorm(int layer) => Block(layer, "attn_norm");
    public static string AttnQ(int layer) => Block(layer, "attn_q");
    public static string AttnK(int layer) => Block(layer, "attn_k");
    public static string AttnV(int layer) => Block(layer, "attn_v");
    public static string AttnOutput(int layer) => Block(layer, "attn_output");
    public static string FfnNorm(int layer) => Block(layer, "ffn_norm");
    public static string FfnGate(int layer) => Block(layer, "ffn_gate");
    public static string FfnUp(int layer) => Block(layer, "ffn_up");
    public static string FfnDown(int layer) => Block(layer, "ffn_down");

    private static string Block(int layer, string part) => string.Create(CultureInfo.InvariantCulture, $"blk.{layer}.{part}.weight");

    public static class Hf
    {
        public const string TokenEmbedding = "model.embed_tokens.weight";
        public const string OutputNorm = "model.norm.weight";
        public const string Output = "lm_head.weight";

        public static string AttnNorm(int layer) => Layer(layer, "input_layernorm");
        public static string AttnQ(int layer) => Layer(layer, "self_attn.q_proj");
        public static string AttnK(int layer) => Layer(layer, "self_attn.k_proj");
        public static string AttnV(int layer) => Layer(layer, "self_attn.v_proj");
        public static string AttnOutput(int layer) => Layer(layer, "self_attn.o_proj");
        public static string FfnNorm(int layer) => Layer(layer, "post_attention_layernorm");
        public static string FfnGate(int layer) => Layer(layer, "mlp.gate_proj");
        public static string FfnUp(int layer) => Layer(layer, "mlp.up_proj");
        public static string FfnDown(int layer) => Layer(layer, "mlp.down_proj");

        private static string Layer(int layer, string part) => string.Create(CultureInfo.InvariantCulture, $"model.layers.{layer}.{part}.weight");
    }

    // Per-layer part names, GGUF ↔ HF.
    private static readonly (string Gguf, string Hf)[] LayerParts =
    [
        ("attn_norm", "input_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];

    private static readonly (string Gguf, string Hf)[] GlobalNames =
    [
        (TokenEmbedding, Hf.TokenEmbedding),
        (OutputNorm, Hf.OutputNorm),
        (Output, Hf.Output),
    ];

    [GeneratedRegex(@"^blk\.(\d+)\.([a-z_]+)\.weight$")]
    private static partial Regex GgufLayerPattern();

    [GeneratedRegex(@"^model\.layers\.(\d+)\.([a-z_.]+)\.weight$")]
    private static partial Regex HfLayerPattern();

    /// <summary>The HF name of a GGUF LLaMA tensor, or null when it has none (e.g. <c>rope_freqs.weight</c>).</summary>
    public static string? GgufToHf(string ggufName)
    {
        foreach (var (g, h) in GlobalNames)
        {
            if (g == ggufName)
            {
                return h;
            }
        }

        var m = GgufLayerPattern().Match(ggufName);
        if (!m.Success)
        {
            return null;
        }

        var part = Array.Find(LayerParts, p => p.Gguf == m.Groups[2].Value);
        return part.Hf is null ? null : $"model.layers.{m.Groups[1].Value}.{part.Hf}.weight";
    }

    /// <summary>The GGUF name of an HF LLaMA tensor, or null when llama.cpp has no such tensor (e.g. <c>rotary_emb.inv_freq</c>).</summary>
    public static string? HfToGguf(string hfName)
    {
        foreach (var (g, h) in GlobalNames)
        {
            if (h == hfName)
            {
                return g;
            }
        }

        var m = HfLayerPattern().Match(hfName);
        if (!m.Success)
        {
            return null;
        }

        var part = Array.Find(LayerParts, p => p.Hf == m.Groups[2].Value);
        return part.Gguf is null ? null : $"blk.{m.Groups[1].Value}.{part.Gguf}.weight";
    }

    /// <summary>The layer index of a <c>blk.N.*</c> name, or -1.</summary>
    public static int LayerOf(string ggufName)
    {
        var m = GgufLayerPattern().Match(ggufName);
        return m.Success && int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
    }

    /// <summary>True for the 1-D RMSNorm gains, which converters keep in F32 (as llama.cpp does).</summary>
    public static bool IsNorm(string ggufName) =>
        ggufName == OutputNorm || ggufName.EndsWith(".attn_norm.weight", StringComparison.Ordinal) || ggufName.EndsWith(".ffn_norm.weight", StringComparison.Ordinal);

    /// <summary>Every tensor a LLaMA model of this shape has, GGUF name and ne shape, in llama.cpp's usual order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Expected(LlamaConfig c)
    {
        long dim = c.Dim, qDim = (long)c.NHeads * c.HeadDim, kvDim = c.KvDim, ffn = c.FfnDim, vocab = c.VocabSize;
        var list = new List<(string, long[])> { (TokenEmbedding, [dim, vocab]) };
        for (var l = 0; l < c.NLayers; l++)
        {
            list.Add((AttnNorm(l), [dim]));
            list.Add((AttnQ(l), [dim, qDim]));
            list.Add((AttnK(l), [dim, kvDim]));
            list.Add((AttnV(l), [dim, kvDim]));
            list.Add((AttnOutput(l), [qDim, dim]));
            list.Add((FfnNorm(l), [dim]));
            list.Add((FfnGate(l), [dim, ffn]));
            list.Add((FfnUp(l), [dim, ffn]));
            list.Add((FfnDown(l), [ffn, dim]));
        }

        list.Add((OutputNorm, [dim]));
        if (!c.TiedEmbeddings)
        {
            list.Add((Output, [dim, vocab]));
        }

        return list;
    }
}
