using Alpaca.Inference;
using Alpaca.Inference.Model;
using Alpaca.Llm.Tensors;
using Xunit.Abstractions;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>The torch backend's logits against the CPU engine's on the same GGUF file: a prompt, then decode steps.</summary>
public sealed class LogitParityTests(ITestOutputHelper output)
{
    [Theory]
    // Tolerances (of the logit scale, max |logit|; and relative RMS), from what the two backends compute:
    // F32: the same weights; the CPU engine rounds keys and values to fp16 as llama.cpp's default KV cache
    // does (≤ 2^-11 relative per element), the torch backend keeps them in f32: ~4e-4 of the scale.
    [InlineData(GgmlType.F32, 2e-3, 2e-3)]
    // F16: the CPU engine also rounds the activations feeding F16 matrices to fp16, as llama.cpp does.
    [InlineData(GgmlType.F16, 1e-2, 5e-3)]
    // BF16: both widen the bf16 weights exactly to f32 and multiply f32 activations (measured 3.5e-4,
    // as F32), so F32's tolerance.
    [InlineData(GgmlType.BF16, 2e-3, 2e-3)]
    // Q8_0 and Q4_0: the same decoded weights, but the CPU engine quantizes activations to Q8 for its
    // integer dot products (~0.5% per matmul, compounding over ~12 matmuls); torch multiplies in float.
    [InlineData(GgmlType.Q8_0, 1e-1, 5e-2)]
    [InlineData(GgmlType.Q4_0, 1e-1, 5e-2)]
    public void Logits_match_the_cpu_engine(GgmlType type, double ofScale, double rms) =>
        AssertParity(TestModels.Tiny(type), type, ofScale, rms);

    [Theory]
    // Llama 3.2: tied embeddings and llama3 rope scaling (rope_freqs.weight); the tolerances of the same types above.
    [InlineData(GgmlType.F32, 2e-3, 2e-3)]
    [InlineData(GgmlType.Q8_0, 1e-1, 5e-2)]
    public void A_llama_3_2_shaped_file_matches_the_cpu_engine(GgmlType type, double ofScale, double rms)
    {
        var path = TestModels.Llama32(type);
        AssertParity(path, type, ofScale, rms);

        // The scaling is visible at this size: the CPU engine's logits without it differ by several tolerances
        // (measured: 0.38 of the scale for F32 and Q8_0 alike).
        var (scaled, _) = Logits(BothBackends.Cpu(path));
        var (plain, _) = Logits(BothBackends.Cpu(TestModels.Llama32(type, scaled: false)));
        var (worst, scale, _) = BothBackends.Compare(scaled, plain);
        output.WriteLine($"{type}: without the llama3 scaling max |Δlogit| {worst / scale:E2} of scale");
        Assert.True(worst > 3 * ofScale * scale, $"rope scaling changes the logits by only {worst} (scale {scale})");
    }

    [Theory]
    // The K-quant files people download: dequantized at load (libs/Alpaca.Llm codecs) against the CPU
    // engine's integer kernels, which quantize activations to Q8_K as llama.cpp does (as for Q8_0/Q4_0).
    [InlineData("q4_k_m")]
    [InlineData("q5_k_m")]
    [InlineData("q6_k")]
    [InlineData("q3_k")]
    [InlineData("q2_k")]
    public void A_k_quant_file_matches_the_cpu_engine(string recipe) =>
        AssertParity(TestModels.KQuant(recipe), GgmlType.F32, 1e-1, 5e-2);

    [Fact]
    public void A_linearly_scaled_rope_matches_the_cpu_engine() =>
        AssertParity(TestModels.Llama32(GgmlType.F32, linear: 4.0), GgmlType.F32, 2e-3, 2e-3);

    private void AssertParity(string path, GgmlType type, double ofScale, double rms)
    {
        using var cpu = BothBackends.Cpu(path);
        using var torch = BothBackends.Torch(path);
        var prompt = BothBackends.Prompt(20);
        var expected = new List<float[]>();
        var actual = new List<float[]>();
        var cs = cpu.Model.Cache.Allocate();
        var ts = torch.Model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence(prompt, 0, cs, logitsForAll: true);
        expected.AddRange(BothBackends.Run(cpu.Model, batch));
        batch.Clear();
        batch.AddSequence(prompt, 0, ts, logitsForAll: true);
        actual.AddRange(BothBackends.Run(torch.Model, batch));

        // Then decode steps feeding the same tokens to both, reading the cache each wrote.
        for (var step = 0; step < 4; step++)
        {
            var token = 10 + (step * 37);
            batch.Clear();
            batch.Add(token, prompt.Length + step, cs, logits: true);
            expected.AddRange(BothBackends.Run(cpu.Model, batch));
            batch.Clear();
            batch.Add(token, prompt.Length + step, ts, logits: true);
            actual.AddRange(BothBackends.Run(torch.Model, batch));
        }

        var (worst, scale, relativeRms) = BothBackends.Compare([.. expected], [.. actual]);
        output.WriteLine($"{System.IO.Path.GetFileName(path)}: max |Δlogit| {worst:E2} = {worst / scale:E2} of scale {scale:F3}, relative RMS {relativeRms:E2}");
        Assert.True(worst <= ofScale * scale, $"{type}: max |Δlogit| {worst} exceeds {ofScale} × {scale}");
        Assert.True(relativeRms <= rms, $"{type}: relative RMS {relativeRms} exceeds {rms}");
        Assert.Equal("torch", torch.Model.Backend);
        Assert.Equal("F32", torch.Model.WeightType);
    }

    /// <summary>The prompt's logits of one engine (disposed here), and its prompt.</summary>
    private static (float[][] Logits, int[] Prompt) Logits(Engine engine)
    {
        using (engine)
        {
            var prompt = BothBackends.Prompt(20);
            var batch = new Batch();
            batch.AddSequence(prompt, 0, engine.Model.Cache.Allocate(), logitsForAll: true);
            return (BothBackends.Run(engine.Model, batch), prompt);
        }
    }

    [Fact]
    public void A_safetensors_folder_gives_the_logits_of_its_gguf()
    {
        // The GGUF → HF converter permutes q/k to rotate-half order independently of the torch loader's
        // inverse permutation: equal logits prove both layouts and the safetensors path.
        using var gguf = BothBackends.Torch(TestModels.Tiny(GgmlType.F32));
        using var hf = TorchModelLoader.Load(TestModels.HfFolder(), new TorchBackendOptions { Device = TestSetup.Device, DType = "f32", MaxSequences = 1 });
        var prompt = BothBackends.Prompt(12, seed: 5);
        var batch = new Batch();
        batch.AddSequence(prompt, 0, gguf.Model.Cache.Allocate(), logitsForAll: true);
        var expected = BothBackends.Run(gguf.Model, batch);
        batch.Clear();
        batch.AddSequence(prompt, 0, hf.Model.Cache.Allocate(), logitsForAll: true);
        var (worst, scale, _) = BothBackends.Compare(expected, BothBackends.Run(hf.Model, batch));
        Assert.True(worst <= 1e-5 * scale, $"max |Δlogit| {worst} of scale {scale}");
        Assert.Equal(hf.Tokenizer.Encode("Once upon a time", addBos: true), gguf.Tokenizer.Encode("Once upon a time", addBos: true));
    }
}
