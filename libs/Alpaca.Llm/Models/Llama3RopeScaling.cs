using System.Text.Json.Nodes;

namespace Alpaca.Llm.Models;

/// <summary>
/// Llama 3.1's rope scaling (config.json <c>"rope_scaling": {"rope_type": "llama3", …}</c>, transformers'
/// <c>_compute_llama3_parameters</c>): RoPE frequencies whose wavelength is longer than the original
/// context divided by <see cref="LowFreqFactor"/> are divided by <see cref="Factor"/>, those shorter than
/// it divided by <see cref="HighFreqFactor"/> are kept, and the band between is interpolated. In GGUF the
/// same thing is the <c>rope_freqs.weight</c> tensor: one divisor per frequency, which llama.cpp applies
/// as θ_i = pos·base^(−2i/d) / rope_freqs[i].
/// </summary>
public sealed record Llama3RopeScaling
{
    public const string RopeType = "llama3";

    /// <summary>factor: the divisor of the low frequencies (8 for Llama 3.1, 32 for Llama 3.2).</summary>
    public required double Factor { get; init; }

    public double LowFreqFactor { get; init; } = 1.0;

    public double HighFreqFactor { get; init; } = 4.0;

    /// <summary>original_max_position_embeddings: the context the model was pre-trained with (8192 for Llama 3.x).</summary>
    public int OriginalContextLength { get; init; } = 8192;

    /// <summary>
    /// The per-frequency divisors (rope_freqs.weight), computed as llama.cpp's convert_hf_to_gguf.py does:
    /// float32 frequencies 1/base^(2i/d), wavelength 2π/freq, then 1, factor, or 1/((1−s)/factor + s).
    /// </summary>
    public float[] FrequencyFactors(int ropeDim, float ropeTheta)
    {
        var lowWavelen = OriginalContextLength / LowFreqFactor;
        var highWavelen = OriginalContextLength / HighFreqFactor;
        var factors = new float[ropeDim / 2];
        for (var i = 0; i < factors.Length; i++)
        {
            var freq = 1f / MathF.Pow(ropeTheta, 2f * i / ropeDim);
            var wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen)
            {
                factors[i] = 1f;
            }
            else if (wavelen > lowWavelen)
            {
                factors[i] = (float)Factor;
            }
            else
            {
                var smooth = (OriginalContextLength / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                factors[i] = (float)(1 / (((1 - smooth) / Factor) + smooth));
            }
        }

        return factors;
    }

    /// <summary>Checks the parameters (names the config.json keys); returns this.</summary>
    public Llama3RopeScaling Validate(string source)
    {
        if (!(Factor >= 1) || !(LowFreqFactor > 0) || !(HighFreqFactor > LowFreqFactor) || OriginalContextLength <= 0)
        {
            throw new InvalidDataException($"{source}: 'rope_scaling' (llama3) needs factor ≥ 1, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0; " +
                $"found factor {Factor}, low_freq_factor {LowFreqFactor}, high_freq_factor {HighFreqFactor}, original_max_position_embeddings {OriginalContextLength}.");
        }

        return this;
    }

    /// <summary>The config.json object transformers reads.</summary>
    public JsonObject ToJson() => new()
    {
        ["rope_type"] = RopeType,
        ["factor"] = Factor,
        ["low_freq_factor"] = LowFreqFactor,
        ["high_freq_factor"] = HighFreqFactor,
        ["original_max_position_embeddings"] = OriginalContextLength,
    };

    /// <summary>
    /// Recovers the parameters from a GGUF file's rope_freqs values (GGUF carries only the divisors):
    /// the factor is the largest divisor, the two band edges follow from the interpolated divisors (s is
    /// linear in 1/wavelength), with the original context from the file or Llama 3's 8192. Returns null
    /// when no llama3 parameters reproduce <paramref name="factors"/> to float precision.
    /// </summary>
    public static Llama3RopeScaling? Fit(ReadOnlySpan<float> factors, int ropeDim, float ropeTheta, int originalContextLength)
    {
        if (factors.Length != ropeDim / 2 || factors.Length == 0)
        {
            return null;
        }

        var factor = (double)Max(factors);
        var candidates = new List<(double Low, double High)> { (1.0, 4.0) };
        var medium = new List<(double U, double S)>();
        for (var i = 0; i < factors.Length; i++)
        {
            if (factors[i] != 1f && factors[i] != (float)factor)
            {
                var wavelen = 2 * Math.PI / (1f / MathF.Pow(ropeTheta, 2f * i / ropeDim));
                medium.Add((originalContextLength / wavelen, ((1 / factors[i]) - (1 / factor)) / (1 - (1 / factor))));
            }
        }

        if (medium.Count >= 2)
        {
            var (a, b) = (medium[0], medium[^1]);
            var slope = (b.S - a.S) / (b.U - a.U); // = 1 / (high − low)
            var low = a.U - (a.S / slope);
            candidates.Insert(0, (Math.Round(low, 4), Math.Round(low + (1 / slope), 4)));
        }

        foreach (var (low, high) in candidates)
        {
            var fit = new Llama3RopeScaling { Factor = factor, LowFreqFactor = low, HighFreqFactor = high, OriginalContextLength = originalContextLength };
            if (high > low && factor >= 1 && Matches(fit.FrequencyFactors(ropeDim, ropeTheta), factors))
            {
                return fit;
            }
        }

        return null;
    }

    private static bool Matches(float[] expected, ReadOnlySpan<float> actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Abs(expected[i])))
            {
                return false;
            }
        }

        return true;
    }

    private static float Max(ReadOnlySpan<float> values)
    {
        var max = values[0];
        foreach (var v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }
}
