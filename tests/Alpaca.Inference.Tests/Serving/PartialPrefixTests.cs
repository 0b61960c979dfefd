using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Llm.Tensors;
using static Alpaca.Inference.Tests.Serving.SlotTableFill;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>
/// Prefix-cache reuse of a partial last block: a prompt that agrees with a cached block only for its first
/// positions (the Alpaca preamble ends mid-block, the instruction follows) gets a copy of that block and keeps
/// those positions; the copy is the sequence's own (the cached block is never written), and the logits after
/// it are exactly those of a prefill without any cache.
/// </summary>
public sealed class PartialPrefixTests
{
    private static readonly int[] Prompt = Enumerable.Range(0, 48).Select(i => ((i * 37) + 11) % 384).ToArray();

    [Fact]
    public void A_prompt_matching_the_start_of_a_cached_block_gets_a_copy_of_it()
    {
        var copies = new List<(int From, int To)>();
        var table = new SlotTable(slots: 3, contextLength: 64, blockTokens: 16, blocks: 12, prefixCaching: true) { BlockCopier = (f, t) => copies.Add((f, t)) };
        var a = table.Allocate();
        Fill(table, a, Prompt); // three full blocks, all registered
        var cachedThird = table.Table(a)[2];
        table.Free(a);

        // 37 tokens agree: blocks 0 and 1 are attached, block 2's first 5 positions are copied.
        var b = table.Allocate();
        int[] diverging = [.. Prompt[..37], 900, 901, 902];
        Assert.Equal(37, table.AttachPrefix(b, diverging, diverging.Length - 1));
        Assert.Equal(37, table.Length(b));
        Assert.Equal(3, table.BlockCount(b));
        Assert.Equal([(cachedThird, table.Table(b)[2])], copies);
        Assert.NotEqual(cachedThird, table.Table(b)[2]);
        Assert.True(table.Pool.IsRegistered(cachedThird));
        Assert.False(table.Pool.IsRegistered(table.Table(b)[2]));
        Assert.Equal(0, table.Pool.References(cachedThird)); // still only cached: nobody holds it

        // b writes the rest of its copy; the cached block keeps its prefix, and b's copy joins the cache once full.
        Fill(table, b, [.. diverging, .. Enumerable.Range(0, 8)], from: 37);
        Assert.True(table.Pool.IsRegistered(cachedThird));
        Assert.True(table.Pool.IsRegistered(table.Table(b)[2]));

        // The limit holds inside the block too; no token in common, nothing copied.
        var c = table.Allocate();
        Assert.Equal(34, table.AttachPrefix(c, Prompt, maxTokens: 34));
        table.Free(c);
        c = table.Allocate();
        Assert.Equal(32, table.AttachPrefix(c, [.. Prompt[..32], 777, .. Prompt[33..]], maxTokens: 47));
        Assert.Equal(2, table.BlockCount(c));
        Assert.Equal(2, copies.Count);
    }

    [Fact]
    public void A_cache_that_cannot_copy_blocks_reuses_whole_blocks_only()
    {
        var table = new SlotTable(slots: 2, contextLength: 64, blockTokens: 16, blocks: 8, prefixCaching: true);
        var a = table.Allocate();
        Fill(table, a, Prompt);
        table.Free(a);
        var b = table.Allocate();
        Assert.Equal(32, table.AttachPrefix(b, [.. Prompt[..40], 900], 40));
    }

    [Fact]
    public void The_logits_after_a_partial_block_hit_are_those_of_a_cold_prefill()
    {
        int[] other = [.. Prompt[..43], 300, 301, 302, 303, 304];
        using var cold = Engine.Load(TinyModels.Path(GgmlType.Q8_0), new ModelOptions { Threads = 2, ContextLength = 128, PrefixCaching = false });
        var expectedBatch = new Batch();
        expectedBatch.AddSequence(other, 0, cold.Model.Cache.Allocate(), logitsForAll: true);
        cold.Model.Forward(expectedBatch);
        var expected = Enumerable.Range(43, other.Length - 43).Select(i => cold.Model.Logits(i).ToArray()).ToArray();

        using var warm = Engine.Load(TinyModels.Path(GgmlType.Q8_0), new ModelOptions { Threads = 2, ContextLength = 128, MaxSequences = 2 });
        var cache = warm.Model.Cache;
        var a = cache.Allocate();
        var fill = new Batch();
        fill.AddSequence(Prompt, 0, a, logitsForLast: false);
        warm.Model.Forward(fill);
        cache.Free(a);

        var b = cache.Allocate();
        Assert.Equal(43, cache.AttachPrefix(b, other, other.Length - 1));
        var rest = new Batch();
        rest.AddSequence(other.AsSpan(43), 43, b, logitsForAll: true);
        warm.Model.Forward(rest);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], warm.Model.Logits(i).ToArray());
        }
    }
}
