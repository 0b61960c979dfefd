using Alpaca.Inference.Model;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;
using Xunit.Abstractions;

namespace Alpaca.Inference.Tests.Conformance;

/// <summary>
/// Our logits against llama.cpp's on the same GGUF file (written by the formats library's factory: a
/// 3-layer GQA model, 32000-token vocabulary, random norm gains). llama.cpp runs with its default
/// attention (no flash attention, fp16 KV cache), whose rounding points our engine reproduces (fp16 KV,
/// query and probabilities; fp16 activations for F16 weights; Q8_0 activations with fp16 scales).
/// Remaining differences come from float summation order, which can flip an fp16 or Q8 rounding of an
/// intermediate value. Tolerances, as a fraction of the largest |logit|:
/// <list type="bullet">
/// <item>F32 5e-4 — one fp16 ulp (2⁻¹¹); only attention rounds to fp16, so flips are rare and small
/// (measured 2.4e-5);</item>
/// <item>F16 2e-3 — four fp16 ulps: every matmul input is rounded to fp16, so an order-induced flip is
/// likelier and propagates through the layers (measured 3.8e-4);</item>
/// <item>Q8_0, Q4_0 5e-2 — activations are quantized exactly as ggml does, and positions before the first
/// flip agree to float rounding (Q4_0 bit for bit: llama.cpp's repacked kernel sums in our order); but
/// an order-induced flip moves one activation by a whole Q8 step (1/127 of its block's max), which shifts
/// that position's logits by up to a few percent of their range (measured 1.3–1.7%), and through the KV
/// cache every later position too. Kernel bugs (nibble order, signs, scales) give errors of the order of
/// the logits; the kernel tests against the scalar reference are tight (1e-5).</item>
/// </list>
/// Greedy continuations must be identical for every type.
/// </summary>
public class LlamaCppConformanceTests(ITestOutputHelper output, LlamaCppConformanceTests.Models models) : IClassFixture<LlamaCppConformanceTests.Models>
{
    private const int Greedy = 16;

    public sealed class Models : IDisposable
    {
        private readonly TempDir _dir = new("alpaca-conformance");

        public static LlamaConfig Config { get; } = new LlamaConfig
        {
            VocabSize = 32000,
            Dim = 128,
            NLayers = 3,
            NHeads = 4,
            NKvHeads = 2,
            FfnDim = 384,
            ContextLength = 256,
            RmsNormEps = 1e-5f,
        }.Validate();

        /// <summary>
        /// Llama 3.2's shape at this size: tied embeddings (no output.weight), θ = 500000 and llama3 rope
        /// scaling (factor 32) written as rope_freqs.weight; its pre-training context of 32 puts the scaled
        /// frequencies inside the positions the test runs.
        /// </summary>
        public static LlamaConfig Llama32Config { get; } = Config with
        {
            TiedEmbeddings = true,
            RopeTheta = 500000f,
            RopeScaling = new Llama3RopeScaling { Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalContextLength = 32 },
        };

        /// <summary>The same model with whole 256-weight super-blocks in every row, so the K-quant mixtures apply everywhere.</summary>
        public static LlamaConfig KQuantConfig { get; } = Config with { Dim = 256, FfnDim = 512 };

        /// <summary>A K-quant model written by our converter (WeightRecipe: q4_k_m, q6_k, ...).</summary>
        public string KQuantPath(string recipe)
        {
            var path = _dir.File($"conformance-{recipe}.gguf");
            lock (_dir)
            {
                if (!File.Exists(path))
                {
                    TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = KQuantConfig, Seed = 7, InitStd = 0.05f, RandomNorms = true }, WeightRecipe.Parse(recipe));
                }
            }

            return path;
        }

        /// <summary>Linear rope scaling by 4 (llama.rope.scaling.type/factor; llama.cpp: freq_scale 0.25), F32.</summary>
        public string LinearRopePath()
        {
            var path = _dir.File("conformance-linear-rope.gguf");
            lock (_dir)
            {
                if (!File.Exists(path))
                {
                    TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = Config with { RopeLinearFactor = 4 }, Seed = 7, InitStd = 0.05f, RandomNorms = true });
                }
            }

            return path;
        }

        public string Path(GgmlType type, bool llama32 = false)
        {
            var path = _dir.File($"conformance-{type}{(llama32 ? "-llama32" : "")}.gguf");
            lock (_dir)
            {
                if (!File.Exists(path))
                {
                    TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = llama32 ? Llama32Config : Config, Seed = 7, InitStd = 0.05f, RandomNorms = true }, type);
                }
            }

            return path;
        }

        public void Dispose() => _dir.Dispose();
    }

    // A fixed pseudo-random prompt of 48 ids (positions up to 63 with the greedy steps).
    private static readonly int[] Prompt = [.. new[] { 1 }.Concat(Enumerable.Range(0, 47).Select(i => (int)((i * 7919L + 104729) % 31999) + 1))];

    [Theory]
    [InlineData(GgmlType.F32, 5e-4)]
    [InlineData(GgmlType.F16, 2e-3)]
    [InlineData(GgmlType.Q8_0, 5e-2)]
    [InlineData(GgmlType.Q4_0, 5e-2)]
    public void Logits_and_greedy_continuation_match_llama_cpp(GgmlType type, double tolerance) =>
        MatchesLlamaCpp(models.Path(type), type.ToString(), tolerance);

    /// <summary>
    /// K-quant files our converter wrote (Q4_K_M: Q4_K with Q6_K output and layer-2 attn_v/ffn_down; Q5_K_M
    /// the same with Q5_K; Q6_K throughout). llama.cpp quantizes the activations to Q8_K for these dots as our kernels do, so the
    /// Q8_0 reasoning and tolerance apply. Greedy: this random model's top two logits often lie within that
    /// noise of each other (at Q4_K_M's step 7, 3.308 vs 3.269 of a 3.7 range), and a summation-order flip then
    /// decides the pick either way; such a near-tie (margin ≤ tolerance × max |logit| in llama.cpp's own logits)
    /// is followed with llama.cpp's token, at most two per continuation. Every other step must agree.
    /// </summary>
    [Theory]
    [InlineData("q4_k_m", 5e-2)]
    [InlineData("q5_k_m", 5e-2)]
    [InlineData("q6_k", 5e-2)]
    public void K_quant_files_we_convert_match_llama_cpp(string recipe, double tolerance) =>
        MatchesLlamaCpp(models.KQuantPath(recipe), recipe, tolerance, maxNearTies: 2);

    [Theory]
    [InlineData(GgmlType.F32, 5e-4)]
    [InlineData(GgmlType.Q8_0, 5e-2)]
    public void Llama_3_2_shape_with_tied_embeddings_and_rope_freqs_matches_llama_cpp(GgmlType type, double tolerance)
    {
        var path = models.Path(type, llama32: true);
        using (var weights = LlamaWeights.Load(path))
        {
            Assert.Equal((LlamaTensorNames.TokenEmbedding, 32f), (weights.Output.Name, weights.RopeFreqFactors![^1]));
        }

        MatchesLlamaCpp(path, type.ToString(), tolerance);
    }

    private void MatchesLlamaCpp(string path, string type, double tolerance, int maxNearTies = 0)
    {
        var deviations = new List<double>();
        var expected = LlamaCppOracle.Evaluate(path, Prompt, Greedy, flashAttention: false);

        using var weights = LlamaWeights.Load(path);
        using var model = new Transformer(weights, new ModelOptions { Threads = 2 });
        var seq = model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, seq, logitsForAll: true);
        model.Forward(batch);
        for (var t = 0; t < Prompt.Length; t++)
        {
            deviations.Add(Compare(expected.Logits[t], model.Logits(t), tolerance, $"{type} prompt position {t}"));
        }

        // Greedy decode, one token per forward pass (the matrix–vector path).
        var generated = new List<int>();
        var nearTies = 0;
        var token = ArgMax(model.Logits(Prompt.Length - 1));
        for (var step = 0; step < Greedy; step++)
        {
            if (token != expected.Greedy[step])
            {
                // Say how close the choice was, so a near-tie is told apart from a wrong model.
                var theirs = expected.GreedyLogits[step];
                var margin = theirs[expected.Greedy[step]] - theirs[token];
                var what = $"{type} greedy step {step}: we chose token {token}, llama.cpp {expected.Greedy[step]} " +
                    $"(llama.cpp's logits for them: {theirs[token]} vs {theirs[expected.Greedy[step]]})";
                Assert.True(margin <= tolerance * theirs.Max(Math.Abs) && ++nearTies <= maxNearTies, what + $"; {nearTies} near-ties allowed: {maxNearTies}.");
                output.WriteLine(what + ": a near-tie, continuing with llama.cpp's token");
                token = expected.Greedy[step];
            }

            generated.Add(token);

            deviations.Add(Compare(expected.GreedyLogits[step], step == 0 ? model.Logits(Prompt.Length - 1) : model.Logits(0), tolerance, $"{type} greedy step {step}"));
            batch.Clear();
            batch.Add(token, Prompt.Length + step, seq, true);
            model.Forward(batch);
            token = ArgMax(model.Logits(0));
        }

        var firstOff = deviations.FindIndex(d => d > 1e-4);
        output.WriteLine($"{type}: max |ours − llama.cpp| / max |logit| = {deviations.Max():E2} (tolerance {tolerance:E0}); " +
            $"median {deviations.Order().ElementAt(deviations.Count / 2):E1}; first position above 1e-4: {(firstOff < 0 ? "none" : firstOff)}");

        Assert.Equal(expected.Greedy, generated);
    }

    [Fact]
    public void Linear_rope_scaling_matches_llama_cpp()
    {
        var path = models.LinearRopePath();
        using (var weights = LlamaWeights.Load(path))
        {
            Assert.Equal(Enumerable.Repeat(4f, weights.RopeDim / 2), weights.RopeFreqFactors!);
        }

        MatchesLlamaCpp(path, "F32, linear rope ×4", 5e-4);
    }

    [Fact]
    public void With_flash_attention_llama_cpp_differs_by_its_fp16_value_accumulation_only()
    {
        // llama.cpp's CPU flash attention accumulates probability·V in fp16 (one rounding per position):
        // a relative error of about 2⁻¹¹·√positions in each attention output. Bound: 5e-3 of the scale.
        var path = models.Path(GgmlType.F32);
        var expected = LlamaCppOracle.Evaluate(path, Prompt, 1, flashAttention: true);
        using var weights = LlamaWeights.Load(path);
        using var model = new Transformer(weights);
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, model.Cache.Allocate(), logitsForAll: true);
        model.Forward(batch);
        var worst = 0.0;
        for (var t = 0; t < Prompt.Length; t++)
        {
            worst = Math.Max(worst, Compare(expected.Logits[t], model.Logits(t), 5e-3, $"flash attention, position {t}"));
        }

        output.WriteLine($"F32 vs llama.cpp with flash attention: max relative difference {worst:E2}");
    }

    private static double Compare(float[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(v => Math.Abs(v));
        var worst = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs(expected[i] - actual[i]);
            if (d > worst)
            {
                worst = d;
                at = i;
            }
        }

        Assert.True(worst <= tolerance * scale, $"{what}: |ours − llama.cpp| = {worst:E3} at token {at} (llama.cpp {expected[at]}, ours {actual[at]}), above {tolerance:E0} × {scale:F3}");
        return worst / scale;
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        var best = 0;
        for (var i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }

        return best;
    }
}
