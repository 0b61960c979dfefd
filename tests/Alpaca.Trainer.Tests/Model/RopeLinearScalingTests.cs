using Alpaca.Llm.Models;
using Alpaca.Trainer.Model;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Model;

/// <summary>
/// Linear rope scaling against transformers' <c>_compute_linear_scaling_rope_parameters</c>, written out here
/// in float32 torch ops as transformers runs them: inv_freq = 1 / base^(arange(0, d, 2) / d), then inv_freq /= factor.
/// </summary>
public class RopeLinearScalingTests
{
    [Fact]
    public void Inverse_frequencies_are_hf_linear_scaling_and_positions_are_divided_by_the_factor()
    {
        var plain = TinyModelFactory.Tiny(dim: 64, heads: 2) with { RopeTheta = 10000f };
        var config = LlamaConfig.FromHfConfigJson(plain.ToHfConfigJson().Replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}", StringComparison.Ordinal));
        Assert.Equal(4.0, config.RopeLinearFactor);

        var d = config.HeadDim;
        using var exponent = arange(0, d, 2, ScalarType.Int64).to(ScalarType.Float32) / d;
        using var hfInv = (1.0f / pow(tensor(config.RopeTheta), exponent)) / 4.0f;
        var expected = hfInv.data<float>().ToArray();
        var actual = RotaryEmbedding.InverseFrequencies(config);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-7 * expected[i], $"inv_freq[{i}]: HF {expected[i]}, ours {actual[i]}");
        }

        // Position 12 under factor 4 is plain RoPE's position 3.
        using var p12 = tensor(new long[] { 12 }).reshape(1, 1);
        using var p3 = tensor(new long[] { 3 }).reshape(1, 1);
        var (cosScaled, sinScaled) = RotaryEmbedding.CosSin(p12, actual, ScalarType.Float32);
        var (cosPlain, sinPlain) = RotaryEmbedding.CosSin(p3, RotaryEmbedding.InverseFrequencies(plain), ScalarType.Float32);
        Assert.True(cosScaled.allclose(cosPlain, rtol: 1e-5, atol: 1e-6) && sinScaled.allclose(sinPlain, rtol: 1e-5, atol: 1e-6));
        foreach (var t in new[] { cosScaled, sinScaled, cosPlain, sinPlain })
        {
            t.Dispose();
        }
    }
}
