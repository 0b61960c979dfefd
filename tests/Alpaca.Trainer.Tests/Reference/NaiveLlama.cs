using Alpaca.Llm.Models;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Reference;

/// <summary>
/// A plain scalar LLaMA forward pass in double precision over the HF-keyed weights: the reference the
/// TorchSharp modules are checked against. Written straight from the HF modelling code
/// (RMSNorm, rotate-half RoPE, grouped-query causal attention, SwiGLU) with loops, no tensors.
/// </summary>
internal sealed class NaiveLlama
{
    private readonly LlamaConfig _config;
    private readonly Dictionary<string, (double[] Data, long[] Shape)> _w = [];

    public NaiveLlama(LlamaConfig config, IReadOnlyDictionary<string, Tensor> weights)
    {
        this._config = config;
        foreach (var (name, t) in weights)
        {
            using var d = t.to(ScalarType.Float64).contiguous();
            _w[name] = (d.data<double>().ToArray(), t.shape);
        }
    }

    /// <summary>Logits [T][V] for one sequence; positions default to 0..T-1.</summary>
    public double[][] Logits(int[] ids, int[]? positions = null)
    {
        int t = ids.Length, d = _config.Dim, hd = _config.HeadDim;
        int nh = _config.NHeads, nkv = _config.NKvHeads;
        positions ??= Enumerable.Range(0, t).ToArray();
        var emb = _w["model.embed_tokens.weight"].Data;
        var x = new double[t][];
        for (var i = 0; i < t; i++)
        {
            x[i] = emb.AsSpan(ids[i] * d, d).ToArray();
        }

        for (var layer = 0; layer < _config.NLayers; layer++)
        {
            var p = $"model.layers.{layer}.";
            var h = x.Select(r => RmsNorm(r, _w[p + "input_layernorm.weight"].Data)).ToArray();
            var q = h.Select(r => MatVec(p + "self_attn.q_proj.weight", r)).ToArray();
            var k = h.Select(r => MatVec(p + "self_attn.k_proj.weight", r)).ToArray();
            var v = h.Select(r => MatVec(p + "self_attn.v_proj.weight", r)).ToArray();
            for (var i = 0; i < t; i++)
            {
                for (var head = 0; head < nh; head++)
                {
                    Rope(q[i], head * hd, hd, positions[i]);
                }

                for (var head = 0; head < nkv; head++)
                {
                    Rope(k[i], head * hd, hd, positions[i]);
                }
            }

            var attended = new double[t][];
            for (var i = 0; i < t; i++)
            {
                attended[i] = new double[nh * hd];
                for (var head = 0; head < nh; head++)
                {
                    var kvHead = head / (nh / nkv);
                    var scores = new double[i + 1];
                    for (var j = 0; j <= i; j++)
                    {
                        double s = 0;
                        for (var c = 0; c < hd; c++)
                        {
                            s += q[i][(head * hd) + c] * k[j][(kvHead * hd) + c];
                        }

                        scores[j] = s / Math.Sqrt(hd);
                    }

                    var max = scores.Max();
                    var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = exp.Sum();
                    for (var j = 0; j <= i; j++)
                    {
                        for (var c = 0; c < hd; c++)
                        {
                            attended[i][(head * hd) + c] += exp[j] / sum * v[j][(kvHead * hd) + c];
                        }
                    }
                }
            }

            for (var i = 0; i < t; i++)
            {
                var o = MatVec(p + "self_attn.o_proj.weight", attended[i]);
                for (var c = 0; c < d; c++)
                {
                    x[i][c] += o[c];
                }

                var h2 = RmsNorm(x[i], _w[p + "post_attention_layernorm.weight"].Data);
                var gate = MatVec(p + "mlp.gate_proj.weight", h2);
                var up = MatVec(p + "mlp.up_proj.weight", h2);
                var act = gate.Select((g, n) => g / (1 + Math.Exp(-g)) * up[n]).ToArray();
                var down = MatVec(p + "mlp.down_proj.weight", act);
                for (var c = 0; c < d; c++)
                {
                    x[i][c] += down[c];
                }
            }
        }

        var head0 = _config.TiedEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
        return x.Select(r => MatVec(head0, RmsNorm(r, _w["model.norm.weight"].Data))).ToArray();
    }

    private double[] MatVec(string name, double[] input)
    {
        var (data, shape) = _w[name];
        int rows = (int)shape[0], cols = (int)shape[1];
        var result = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = 0;
            for (var c = 0; c < cols; c++)
            {
                s += data[(r * cols) + c] * input[c];
            }

            result[r] = s;
        }

        return result;
    }

    private double[] RmsNorm(double[] x, double[] weight)
    {
        var ms = x.Sum(v => v * v) / x.Length;
        var scale = 1.0 / Math.Sqrt(ms + _config.RmsNormEps);
        return x.Select((v, i) => v * scale * weight[i]).ToArray();
    }

    // Rotate-half: pairs (i, i + hd/2) rotate by angle pos · theta^(−2i/hd).
    private void Rope(double[] vec, int offset, int hd, int pos)
    {
        for (var i = 0; i < hd / 2; i++)
        {
            var angle = pos / Math.Pow(_config.RopeTheta, 2.0 * i / hd);
            double a = vec[offset + i], b = vec[offset + i + (hd / 2)];
            vec[offset + i] = (a * Math.Cos(angle)) - (b * Math.Sin(angle));
            vec[offset + i + (hd / 2)] = (b * Math.Cos(angle)) + (a * Math.Sin(angle));
        }
    }
}
