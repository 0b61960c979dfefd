using Alpaca.Llm.Models;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>
/// Rotary position embeddings in the Hugging Face "rotate half" layout (the layout HF LLaMA weights
/// use; GGUF converters permute q/k to llama.cpp's interleaved layout on export).
/// Positions are explicit so that packed sequences can restart them at every example.
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>inv_freq[i] = 1 / theta^(2i / d), as HF computes it.</summary>
    public static float[] InverseFrequencies(int headDim, double theta)
    {
        var inv = new float[headDim / 2];
        for (var i = 0; i < inv.Length; i++)
        {
            inv[i] = (float)(1.0 / Math.Pow(theta, 2.0 * i / headDim));
        }

        return inv;
    }

    /// <summary>
    /// The inverse frequencies the model uses: HF's plain ones, divided per frequency by Llama 3.1's
    /// llama3 factors when the config has them (the same divisors the GGUF export writes as rope_freqs),
    /// or all by the factor of linear scaling (HF: inv_freq /= factor, i.e. positions divided by it).
    /// </summary>
    public static float[] InverseFrequencies(LlamaConfig config)
    {
        var inv = InverseFrequencies(config.HeadDim, config.RopeTheta);
        if (config.RopeFrequencyDivisors(config.HeadDim) is { } factors)
        {
            for (var i = 0; i < inv.Length; i++)
            {
                inv[i] /= factors[i];
            }
        }

        return inv;
    }

    /// <summary>cos and sin of shape [B, 1, T, headDim] for <paramref name="positionIds"/> [B, T].</summary>
    public static (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds, float[] inverseFrequencies, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(inverseFrequencies, device: positionIds.device);
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv; // [B, T, d/2]
        var emb = cat([freqs, freqs], dim: -1).unsqueeze(1);                 // [B, 1, T, d]
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>x * cos + rotate_half(x) * sin for x of shape [B, heads, T, headDim].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], dim: -1);
        return ((x * cos) + (rotated * sin)).MoveToOuterDisposeScope();
    }
}
