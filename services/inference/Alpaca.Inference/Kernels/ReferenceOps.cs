namespace Alpaca.Inference.Kernels;

/// <summary>Scalar definitions of the element-wise operations, with ggml's precision choices (sums of squares and of exponentials in double, the rest in float).</summary>
public static class ReferenceOps
{
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> gain, Span<float> output, float eps)
    {
        var ss = 0.0;
        foreach (var v in x)
        {
            ss += v * v;
        }

        var scale = 1f / MathF.Sqrt((float)(ss / x.Length) + eps);
        for (var i = 0; i < x.Length; i++)
        {
            output[i] = x[i] * scale * gain[i];
        }
    }

    public static float Silu(float g) => (float)(g / (1.0 + Math.Exp(-g)));

    public static void Softmax(Span<float> x)
    {
        var max = double.NegativeInfinity;
        foreach (var v in x)
        {
            max = Math.Max(max, v);
        }

        var sum = 0.0;
        var e = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            e[i] = Math.Exp(x[i] - max);
            sum += e[i];
        }

        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)(e[i] / sum);
        }
    }

    /// <summary>
    /// cos/sin of θ_i = pos · base^(−2i/rotDim) for the rotDim/2 pairs, computed as ggml's rope cache does
    /// (float: θ starts at pos and is multiplied by powf(base, −2/rotDim) once per pair), so positions far
    /// into the context get llama.cpp's angles, float rounding included. With <paramref name="freqFactors"/>
    /// (Llama 3.1's rope_freqs) pair i's angle is θ_i / factor_i, as ggml's rope cache divides it.
    /// </summary>
    public static void RopeCosSin(int pos, int rotDim, float freqBase, Span<float> cos, Span<float> sin, ReadOnlySpan<float> freqFactors = default)
    {
        var thetaScale = MathF.Pow(freqBase, -2f / rotDim);
        var theta = (float)pos;
        for (var i = 0; i < rotDim / 2; i++)
        {
            var angle = freqFactors.IsEmpty ? theta : theta / freqFactors[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
            theta *= thetaScale;
        }
    }

    /// <summary>Rotates adjacent pairs (2i, 2i+1) of every head of <paramref name="v"/> for position <paramref name="pos"/>.</summary>
    public static void Rope(Span<float> v, int headDim, int rotDim, int pos, float freqBase, ReadOnlySpan<float> freqFactors = default)
    {
        Span<float> cos = stackalloc float[rotDim / 2];
        Span<float> sin = stackalloc float[rotDim / 2];
        RopeCosSin(pos, rotDim, freqBase, cos, sin, freqFactors);
        for (var h = 0; h < v.Length / headDim; h++)
        {
            for (var i = 0; i < rotDim / 2; i++)
            {
                var j = h * headDim + 2 * i;
                float a = v[j], b = v[j + 1];
                v[j] = a * cos[i] - b * sin[i];
                v[j + 1] = a * sin[i] + b * cos[i];
            }
        }
    }
}
