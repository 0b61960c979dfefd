using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The scalar definitions every fast kernel is tested against. Weights are decoded from their GGUF bytes
/// with the formats library's reference codecs (<see cref="Quantizer"/>), not from our packed copy, and
/// sums run in double.
/// <para>For Q4_0/Q8_0 weights the activations are first quantized to Q8 blocks, exactly as the engine
/// (and llama.cpp) does, so the reference is the same function as the fast path, not a float
/// approximation of it: y = Σ_b d_x[b] · Σ_i w[b,i] · q_x[b,i], with w[b,i] = d_w[b]·(weight quant) exact
/// in float.</para>
/// <para>For Q4_K/Q5_K/Q6_K weights the activations are quantized to Q8_K and the dot product is ggml's
/// scalar <c>ggml_vec_dot_qN_K_q8_K_generic</c>, read from the GGUF bytes: integer sums per sub-block,
/// times the integer sub-block scales, then d·dx per super-block, minus dmin·dx·Σ min·bsums
/// (<see cref="KQuantReference"/>; checked against ggml's own output in the golden tests).</para>
/// </summary>
public static unsafe class ReferenceKernels
{
    /// <summary>
    /// y[t·yStride + r] for rows [rowStart, rowEnd) and every token. <paramref name="quantizeActivations"/>
    /// false multiplies quantized weights by the float activations instead (to measure what activation
    /// quantization costs; the engine always quantizes).
    /// </summary>
    public static void MatMul(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, bool quantizeActivations = true)
    {
        var k = w.Columns;
        var row = new float[k];
        var q = new sbyte[k];
        var d = new float[k / 32 + 1];
        if (w.HasKQuantKernel && quantizeActivations)
        {
            KQuantReference.MatMul(w, input, rowStart, rowEnd, y, yStride);
            return;
        }

        for (var r = rowStart; r < rowEnd; r++)
        {
            Quantizer.Dequantize(w.Type, w.Row(r), row);
            for (var t = 0; t < input.Tokens; t++)
            {
                var x = new ReadOnlySpan<float>(input.Row(t), k);
                y[(long)t * yStride + r] = w.IsQuantized && quantizeActivations ? (float)DotQuantized(row, x, q, d) : (float)Dot(row, x);
            }
        }
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
        }

        return s;
    }

    /// <summary>Dequantized weights · Q8-quantized activations (the activations are quantized here, with the reference block quantizer).</summary>
    public static double DotQuantized(ReadOnlySpan<float> weights, ReadOnlySpan<float> x, Span<sbyte> q, Span<float> d)
    {
        var s = 0.0;
        for (var b = 0; b < x.Length / 32; b++)
        {
            ActivationQuantizer.QuantizeBlockReference(x.Slice(b * 32, 32), q.Slice(b * 32, 32), out d[b], out _);
            var block = 0.0;
            for (var i = 0; i < 32; i++)
            {
                block += (double)weights[b * 32 + i] * q[b * 32 + i];
            }

            s += block * d[b];
        }

        return s;
    }
}
