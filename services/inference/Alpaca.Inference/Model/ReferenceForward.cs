using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model;

/// <summary>
/// The whole forward pass in plain scalar code, one token at a time, as in llama2.c: the definition
/// <see cref="Transformer"/> is tested against. It shares nothing with the fast path but the weight
/// bytes: matrices go through <see cref="ReferenceKernels"/> (reference codecs, Q8 activations for
/// Q4_0/Q8_0 weights as the engine and llama.cpp use), norms/softmax/RoPE through
/// <see cref="ReferenceOps"/> in double, and it keeps its own KV arrays.
/// <para>The rounding points are llama.cpp's: keys and values are stored as fp16, the query and the
/// attention probabilities are rounded to fp16 for their products with them, and activations that
/// feed F16 weights are rounded to fp16 (ggml's vec_dot type for F16).</para>
/// </summary>
public static unsafe class ReferenceForward
{
    /// <summary>
    /// Logits of every token of one sequence starting at position 0. With <paramref name="quantizeActivations"/>
    /// false, Q4_0/Q8_0 weights meet float activations (a measure of the activation quantization error).
    /// </summary>
    public static float[][] Run(LlamaWeights w, IReadOnlyList<int> tokens, bool quantizeActivations = true)
    {
        var c = w.Config;
        int dim = c.Dim, hd = c.HeadDim, qDim = c.NHeads * hd, kvDim = c.KvDim, group = c.NHeads / c.NKvHeads;
        var keys = new float[c.NLayers][];
        var values = new float[c.NLayers][];
        for (var l = 0; l < c.NLayers; l++)
        {
            keys[l] = new float[tokens.Count * kvDim];
            values[l] = new float[tokens.Count * kvDim];
        }

        var result = new float[tokens.Count][];
        var x = new float[dim];
        var xb = new float[dim];
        var att = new float[qDim];
        for (var pos = 0; pos < tokens.Count; pos++)
        {
            w.TokenEmbedding.Lookup(tokens[pos], x);
            for (var l = 0; l < c.NLayers; l++)
            {
                var layer = w.Layers[l];
                ReferenceOps.RmsNorm(x, layer.AttnNorm, xb, c.RmsNormEps);
                RoundIfHalf(xb, layer.AttnQ, layer.AttnK, layer.AttnV);
                var q = MatVec(quantizeActivations, layer.AttnQ, xb);
                var k = MatVec(quantizeActivations, layer.AttnK, xb);
                var v = MatVec(quantizeActivations, layer.AttnV, xb);
                ReferenceOps.Rope(q, hd, w.RopeDim, pos, c.RopeTheta, w.RopeFreqFactors);
                ReferenceOps.Rope(k, hd, w.RopeDim, pos, c.RopeTheta, w.RopeFreqFactors);
                for (var i = 0; i < kvDim; i++)
                {
                    keys[l][pos * kvDim + i] = (float)(Half)k[i];
                    values[l][pos * kvDim + i] = (float)(Half)v[i];
                }

                for (var h = 0; h < c.NHeads; h++)
                {
                    var kvh = h / group;
                    var scores = new float[pos + 1];
                    for (var j = 0; j <= pos; j++)
                    {
                        var s = 0.0;
                        for (var i = 0; i < hd; i++)
                        {
                            s += (double)(float)(Half)q[h * hd + i] * keys[l][j * kvDim + kvh * hd + i];
                        }

                        scores[j] = (float)(s / Math.Sqrt(hd));
                    }

                    ReferenceOps.Softmax(scores);
                    for (var j = 0; j <= pos; j++)
                    {
                        scores[j] = (float)(Half)scores[j];
                    }

                    for (var i = 0; i < hd; i++)
                    {
                        var s = 0.0;
                        for (var j = 0; j <= pos; j++)
                        {
                            s += (double)scores[j] * values[l][j * kvDim + kvh * hd + i];
                        }

                        att[h * hd + i] = (float)s;
                    }
                }

                RoundIfHalf(att, layer.AttnOutput);
                var o = MatVec(quantizeActivations, layer.AttnOutput, att);
                for (var i = 0; i < dim; i++)
                {
                    x[i] += o[i];
                }

                ReferenceOps.RmsNorm(x, layer.FfnNorm, xb, c.RmsNormEps);
                RoundIfHalf(xb, layer.FfnGate, layer.FfnUp);
                var gate = MatVec(quantizeActivations, layer.FfnGate, xb);
                var up = MatVec(quantizeActivations, layer.FfnUp, xb);
                for (var i = 0; i < gate.Length; i++)
                {
                    gate[i] = ReferenceOps.Silu(gate[i]) * up[i];
                }

                RoundIfHalf(gate, layer.FfnDown);
                var down = MatVec(quantizeActivations, layer.FfnDown, gate);
                for (var i = 0; i < dim; i++)
                {
                    x[i] += down[i];
                }
            }

            ReferenceOps.RmsNorm(x, w.OutputNorm, xb, c.RmsNormEps);
            RoundIfHalf(xb, w.Output);
            result[pos] = MatVec(quantizeActivations, w.Output, xb);
        }

        return result;
    }

    private static void RoundIfHalf(float[] x, params WeightMatrix[] consumers)
    {
        if (consumers.All(m => m.Type == Alpaca.Llm.Tensors.GgmlType.F16))
        {
            for (var i = 0; i < x.Length; i++)
            {
                x[i] = (float)(Half)x[i];
            }
        }
    }

    private static float[] MatVec(bool quantizeActivations, WeightMatrix w, float[] x)
    {
        var y = new float[w.Rows];
        fixed (float* px = x)
        fixed (float* py = y)
        {
            ReferenceKernels.MatMul(w, new MatMulInput(px, x.Length, 1), 0, w.Rows, py, w.Rows, quantizeActivations);
        }

        return y;
    }
}
