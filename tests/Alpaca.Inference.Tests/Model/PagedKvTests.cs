using Alpaca.Inference.Model;
using Alpaca.Inference.Model.Steps;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Model;

/// <summary>The paged KV cache in the forward pass: the fast attention against the plain one, paging on and off, and the element types.</summary>
public sealed unsafe class PagedKvTests
{
    private static readonly int[] LongPrompt = Enumerable.Range(0, 45).Select(i => ((i * 37) + 11) % 384).ToArray();

    [Theory]
    [InlineData(KvCacheType.F32)]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.Q8_0)]
    public void The_fast_attention_over_scattered_blocks_matches_the_plain_reference(KvCacheType type)
    {
        const int hd = 32, n = 50;
        using var cache = new KvCache(layers: 2, blocks: 8, blockTokens: 16, kvHeads: 2, headDim: hd, type);
        int[] table = [5, 2, 7, 0];
        var random = new Random(3);
        var key = new float[hd];
        var value = new float[hd];
        fixed (float* k = key, v = value)
        {
            for (var p = 0; p < n; p++)
            {
                for (var d = 0; d < hd; d++)
                {
                    key[d] = (float)(random.NextDouble() * 4 - 2);
                    value[d] = (float)(random.NextDouble() * 2 - 1);
                }

                cache.Store(1, table[p / 16], p % 16, 1, k, v);
            }
        }

        var query = Enumerable.Range(0, hd).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var expected = ReferenceAttention.Attend(cache, table, layer: 1, kvHead: 1, query, n);

        var stride = AttentionStep.Stride(n);
        var scratch = new float[AttentionStep.ScratchFloats(64, hd)];
        var output = new float[hd];
        fixed (float* s = scratch, o = output)
        {
            var q = s;
            var scores = q + hd;
            var keys = scores + AttentionStep.Stride(64);
            var values = keys + (stride * hd);
            query.CopyTo(new Span<float>(q, hd));
            if (cache.RoundsToHalf)
            {
                Alpaca.Inference.Kernels.Fp16.RoundInPlace(q, hd);
            }

            cache.Gather(1, table, n, 1, keys, stride, values);
            AttentionStep.Attend(q, keys, stride, values, hd, 1f / MathF.Sqrt(hd), cache.RoundsToHalf, n, scores, o);
        }

        // Float vs double sums can move one probability across an fp16 rounding step (2^-11 relative).
        ForwardTests.AssertClose(expected, output, $"{type} attention", tolerance: 2e-3);
    }

    [Theory]
    [InlineData(32, 50)]
    [InlineData(64, 1)]
    [InlineData(64, 37)]
    [InlineData(128, 64)]
    // Decode attention over the fp16 cache read in place (no gather): head sizes 32/64/128, one position,
    // an odd count (a half block and an odd last row), whole blocks.
    public void Decode_attention_in_place_over_scattered_blocks_matches_the_plain_reference(int hd, int n)
    {
        if (!HalfCacheAttention.Supports(hd))
        {
            return; // no AVX2 here: AttentionStep uses the gather path, which the test above covers
        }

        using var cache = new KvCache(layers: 2, blocks: 8, blockTokens: 16, kvHeads: 2, headDim: hd, KvCacheType.F16);
        int[] table = [5, 2, 7, 0];
        var random = new Random(hd + n);
        var key = new float[hd];
        var value = new float[hd];
        fixed (float* k = key, v = value)
        {
            for (var p = 0; p < n; p++)
            {
                for (var d = 0; d < hd; d++)
                {
                    key[d] = (float)(random.NextDouble() * 4 - 2);
                    value[d] = (float)(random.NextDouble() * 2 - 1);
                }

                cache.Store(1, table[p / 16], p % 16, 1, k, v);
            }
        }

        var query = Enumerable.Range(0, hd).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var expected = ReferenceAttention.Attend(cache, table, layer: 1, kvHead: 1, query, n);
        var scratch = new float[hd + n + hd];
        var output = new float[hd];
        fixed (float* s = scratch, o = output)
        {
            var q = s;
            query.CopyTo(new Span<float>(q, hd));
            Alpaca.Inference.Kernels.Fp16.RoundInPlace(q, hd);
            HalfCacheAttention.Attend(cache, 1, table, 1, n, q, 1f / MathF.Sqrt(hd), q + hd + n, q + hd, o);
        }

        ForwardTests.AssertClose(expected, output, $"in-place attention hd={hd} n={n}", tolerance: 2e-3);
    }

    // Three sequences interleaved so their blocks are scattered over the pool; the same calls without paging.
    private static float[][] Interleaved(Transformer model)
    {
        int a = model.Cache.Allocate(), b = model.Cache.Allocate(), c = model.Cache.Allocate();
        var batch = new Batch();
        var rows = new List<float[]>();
        for (var start = 0; start < LongPrompt.Length; start += 9)
        {
            batch.Clear();
            var chunk = LongPrompt.AsSpan(start, Math.Min(9, LongPrompt.Length - start));
            batch.AddSequence(chunk, start, a);
            batch.AddSequence(chunk[..Math.Min(chunk.Length, 5)], start / 9 * 5, b);
            batch.Add(chunk[0], start / 9, c, logits: true);
            model.Forward(batch);
            rows.AddRange(Enumerable.Range(0, model.LogitRows).Select(i => model.Logits(i).ToArray()));
        }

        return [.. rows];
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    public void Paged_and_contiguous_caches_give_identical_logits(GgmlType type)
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(type));
        using var paged = new Transformer(weights, new ModelOptions { MaxSequences = 3, ContextLength = 64, Threads = 2 });
        using var contiguous = new Transformer(weights, new ModelOptions { MaxSequences = 3, ContextLength = 64, KvBlockTokens = 0, Threads = 2 });
        Assert.Equal(16, paged.Cache.BlockTokens);
        Assert.Equal(64, contiguous.Cache.BlockTokens);
        var expected = Interleaved(contiguous);
        var actual = Interleaved(paged);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]); // same values in the same order of operations: bit for bit
        }
    }

    [Theory]
    [InlineData(KvCacheType.F32, 2e-3)]
    [InlineData(KvCacheType.Q8_0, 2e-2)]
    public void Other_element_types_stay_within_a_stated_tolerance_of_the_fp16_cache(KvCacheType type, double tolerance)
    {
        using var weights = LlamaWeights.Load(TinyModels.Path(GgmlType.F32));
        using var f16 = new Transformer(weights, new ModelOptions { ContextLength = 64 });
        using var other = new Transformer(weights, new ModelOptions { ContextLength = 64, KvCacheType = type });
        Assert.Equal(f16.KvStorage.BytesPerToken * (type == KvCacheType.F32 ? 2.0 : 0.5625), other.KvStorage.BytesPerToken);

        float[][] Run(Transformer model)
        {
            var batch = new Batch();
            batch.AddSequence(LongPrompt, 0, model.Cache.Allocate(), logitsForAll: true);
            model.Forward(batch);
            return Enumerable.Range(0, model.LogitRows).Select(i => model.Logits(i).ToArray()).ToArray();
        }

        var expected = Run(f16);
        var actual = Run(other);
        var differs = false;
        for (var t = 0; t < expected.Length; t++)
        {
            ForwardTests.AssertClose(expected[t], actual[t], $"{type} token {t}", tolerance);
            differs |= !expected[t].AsSpan().SequenceEqual(actual[t]);
        }

        Assert.True(differs, "the element type must change the stored values");
    }
}
