using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Model;

/// <summary>The batched, threaded forward pass against the scalar one-token-at-a-time reference.</summary>
public class ForwardTests
{
    private static readonly int[] Prompt = [1, 5, 17, 300, 42, 7, 99, 3, 250, 383, 0, 64];

    public static TheoryData<KernelPath, GgmlType> PathsAndTypes()
    {
        var data = new TheoryData<KernelPath, GgmlType>();
        foreach (var path in CpuKernels.Supported)
        {
            foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 })
            {
                data.Add(path, type);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndTypes))]
    public void Prompt_logits_match_the_reference_forward(KernelPath path, GgmlType type)
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(type));
        var expected = ReferenceForward.Run(weights, Prompt);
        using var model = new Transformer(weights, new ModelOptions { Kernels = path, Threads = 2 });
        var seq = model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, seq, logitsForAll: true);
        model.Forward(batch);
        Assert.Equal(Prompt.Length, model.LogitRows);
        for (var t = 0; t < Prompt.Length; t++)
        {
            AssertClose(expected[t], model.Logits(t), $"{path} {type} token {t}", Tolerance(type));
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    public void Tied_output_and_another_rope_base_match_the_reference(GgmlType type)
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(type, tied: true, ropeTheta: 500000f));
        Assert.Equal("token_embd.weight", weights.Output.Name);
        var expected = ReferenceForward.Run(weights, Prompt);
        using var model = new Transformer(weights);
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, model.Cache.Allocate(), logitsForAll: true);
        model.Forward(batch);
        for (var t = 0; t < Prompt.Length; t++)
        {
            AssertClose(expected[t], model.Logits(t), $"tied {type} token {t}", Tolerance(type));
        }
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q4_0)]
    public void Decoding_token_by_token_gives_the_prompt_logits(GgmlType type)
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(type));
        using var model = new Transformer(weights);
        var seq = model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, seq, logitsForAll: true);
        model.Forward(batch);
        var all = Enumerable.Range(0, Prompt.Length).Select(i => model.Logits(i).ToArray()).ToArray();

        model.Cache.Free(seq);
        seq = model.Cache.Allocate();
        for (var i = 0; i < Prompt.Length; i++)
        {
            batch.Clear();
            batch.Add(Prompt[i], i, seq, logits: true);
            model.Forward(batch);
            AssertClose(all[i], model.Logits(0), $"{type} decode step {i}");
        }

        Assert.Equal(Prompt.Length, model.Cache.Length(seq));
    }

    [Fact]
    public void Several_sequences_in_one_batch_equal_separate_runs()
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(GgmlType.Q8_0));
        using var model = new Transformer(weights, new ModelOptions { MaxSequences = 3 });
        int[] a = [1, 20, 30, 40, 50], b = [1, 200, 7], c = [1, 9, 9, 9, 9, 9, 9];

        float[] Alone(int[] tokens)
        {
            var s = model.Cache.Allocate();
            var batch = new Batch();
            batch.AddSequence(tokens, 0, s);
            model.Forward(batch);
            model.Cache.Free(s);
            return model.Logits(0).ToArray();
        }

        var ea = Alone(a);
        var eb = Alone(b);
        var ec = Alone(c);

        // Continuous batching: a's prompt, b's prompt and c's first half together; then c's rest with
        // one decode step each of a and b.
        int sa = model.Cache.Allocate(), sb = model.Cache.Allocate(), sc = model.Cache.Allocate();
        var mixed = new Batch();
        mixed.AddSequence(a[..4], 0, sa, logitsForLast: false);
        mixed.AddSequence(b, 0, sb);
        mixed.AddSequence(c[..3], 0, sc, logitsForLast: false);
        model.Forward(mixed);
        AssertClose(eb, model.Logits(0), "b in the mixed batch");

        mixed.Clear();
        mixed.Add(c[3], 3, sc, false);
        mixed.Add(a[4], 4, sa, true);
        mixed.AddSequence(c[4..], 4, sc);
        model.Forward(mixed);
        AssertClose(ea, model.Logits(0), "a decoded in a mixed batch");
        AssertClose(ec, model.Logits(1), "c finished in a mixed batch");
    }

    [Fact]
    public void Long_batches_are_processed_in_chunks_with_the_same_result()
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(GgmlType.Q4_0));
        using var whole = new Transformer(weights);
        using var chunked = new Transformer(weights, new ModelOptions { MaxBatchTokens = 5, Threads = 1 });
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, whole.Cache.Allocate(), logitsForAll: true);
        whole.Forward(batch);
        chunked.Cache.Allocate();
        chunked.Forward(batch);
        for (var t = 0; t < Prompt.Length; t++)
        {
            AssertClose(whole.Logits(t).ToArray(), chunked.Logits(t), $"token {t}");
        }
    }

    [Fact]
    public void Restarting_a_sequence_at_an_earlier_position_truncates_it()
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(GgmlType.F32));
        using var model = new Transformer(weights);
        var seq = model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence([1, 2, 3, 4, 5], 0, seq);
        model.Forward(batch);
        batch.Clear();
        batch.AddSequence([9, 10], 3, seq);
        model.Forward(batch);
        var rewritten = model.Logits(0).ToArray();
        Assert.Equal(5, model.Cache.Length(seq));
        var expected = ReferenceForward.Run(weights, [1, 2, 3, 9, 10]);
        AssertClose(expected[4], rewritten, "after restart");
    }

    [Fact]
    public void Invalid_batches_are_rejected_with_the_entry_named()
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(GgmlType.F32));
        using var model = new Transformer(weights, new ModelOptions { MaxSequences = 2 });
        var seq = model.Cache.Allocate();
        var batch = new Batch();
        batch.Add(384, 0, seq, true);
        Assert.Contains("token id 384", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        batch.Clear();
        batch.Add(1, 1, seq, true);
        Assert.Contains("gap", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        batch.Clear();
        batch.Add(1, 0, 1, true);
        Assert.Contains("sequence 1", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        batch.Clear();
        batch.AddSequence([1, 2, 3], 0, seq);
        batch.Add(4, 1, seq, true);
        Assert.Contains("not after its previous position", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        batch.Clear();
        batch.Add(1, 256, seq, true);
        Assert.Contains("gap", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        Assert.Equal(0, model.Cache.Length(seq));
    }

    // Fast path vs reference: the same function, but float sums in another order can flip an fp16 or Q8
    // rounding of an intermediate activation. Float weights: ≤ a few fp16 ulps of the logit range (2e-3).
    // Q8_0/Q4_0: one flipped Q8 step of one activation (1/127 of its block's max) moves logits by up to
    // ~1% of their range in these 2-layer models with large weights (std 0.08); real kernel bugs (wrong
    // nibble order, sign, scale) give errors of the order of the logits themselves.
    private static double Tolerance(GgmlType type) => type is GgmlType.Q8_0 or GgmlType.Q4_0 ? 1.5e-2 : 2e-3;

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tolerance = 2e-3)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 0f;
        foreach (var v in expected)
        {
            scale = MathF.Max(scale, MathF.Abs(v));
        }

        var worst = 0f;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = MathF.Abs(expected[i] - actual[i]);
            if (d > worst)
            {
                worst = d;
                at = i;
            }
        }

        Assert.True(worst <= tolerance * scale + 1e-5f, $"{what}: max |diff| {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}), scale {scale}");
    }
}
