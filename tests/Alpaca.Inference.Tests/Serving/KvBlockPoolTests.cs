using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using static Alpaca.Inference.Tests.Serving.SlotTableFill;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>The block pool and the slot table's block tables and prefix cache on their own (no model).</summary>
public sealed class KvBlockPoolTests
{
    private static int[] Tokens(int count, int seed = 0) => Enumerable.Range(seed, count).ToArray();

    [Fact]
    public void Blocks_are_reference_counted_and_cached_blocks_are_evicted_least_recently_released_first()
    {
        var pool = new KvBlockPool(blocks: 3, blockTokens: 4, prefixCaching: true);
        int a = pool.Take(), b = pool.Take(), c = pool.Take();
        Assert.Equal([0, 1, 2], new[] { a, b, c });
        Assert.Equal(-1, pool.Take());

        pool.Register(a, hash: 11, parentHash: 0, [1, 2, 3, 4]);
        pool.Register(b, hash: 12, parentHash: 11, [5, 6, 7, 8]);
        pool.Release(b); // cached, older
        pool.Release(a); // cached, newer
        pool.Release(c); // unregistered: free
        Assert.Equal(3, pool.Available);
        Assert.Equal(2, pool.Cached);

        // A hit takes a cached block out of the eviction order; a mismatched parent or token is a miss.
        Assert.Equal(a, pool.Find(11, 0, [1, 2, 3, 4]));
        Assert.Equal(-1, pool.Find(11, 0, [1, 2, 3, 5]));
        Assert.Equal(-1, pool.Find(12, 99, [5, 6, 7, 8]));
        pool.Retain(a);
        Assert.Equal(1, pool.References(a));

        Assert.Equal(c, pool.Take()); // the free block first
        Assert.Equal(b, pool.Take()); // then the oldest cached one, which forgets its prefix
        Assert.Equal(1, pool.Evictions);
        Assert.Equal(-1, pool.Find(12, 11, [5, 6, 7, 8]));
        Assert.Equal(-1, pool.Take()); // a is held
        Assert.Throws<InvalidOperationException>(() => { pool.Release(a); pool.Release(a); });
    }

    [Fact]
    public void A_new_sequence_gets_the_longest_cached_run_of_whole_blocks_of_its_prompt()
    {
        var table = new SlotTable(slots: 3, contextLength: 64, blockTokens: 16, blocks: 12, prefixCaching: true);
        var first = table.Allocate();
        var prompt = Tokens(40);
        Fill(table, first, prompt);
        Assert.Equal(3, table.BlockCount(first));
        table.Free(first); // two full blocks stay cached, the partial third is free
        Assert.Equal(12, table.FreeBlocks);
        Assert.Equal(2, table.Pool.Cached);

        var same = table.Allocate();
        Assert.Equal(32, table.AttachPrefix(same, prompt, maxTokens: 39));
        Assert.Equal(32, table.Length(same));
        Assert.Equal(10, table.FreeBlocks);

        // The second block differs: only the first is reused; a limit below a block reuses none.
        var other = table.Allocate();
        int[] diverging = [.. prompt[..16], .. Tokens(24, seed: 500)];
        Assert.Equal(16, table.AttachPrefix(other, diverging, maxTokens: 39));
        Assert.Equal(2, table.Pool.References(table.Table(other)[0]));
        var third = table.Allocate();
        Assert.Throws<InvalidOperationException>(() => table.Allocate());
        Assert.Equal(0, table.AttachPrefix(third, prompt, maxTokens: 15));

        // The same first block content after another prefix is not the same block.
        table.Free(third);
        third = table.Allocate();
        Assert.Equal(0, table.AttachPrefix(third, [.. Tokens(16, seed: 7), .. prompt[16..32]], maxTokens: 40));
    }

    [Fact]
    public void Reservations_take_blocks_only_when_all_fit_and_cached_blocks_give_way()
    {
        var table = new SlotTable(slots: 2, contextLength: 64, blockTokens: 16, blocks: 4, prefixCaching: true);
        var a = table.Allocate();
        Fill(table, a, Tokens(32));
        table.Free(a); // 2 cached
        var b = table.Allocate();
        Assert.True(table.TryReserve(b, 65)); // clamped to the context: 4 blocks, 2 of them evicted from the cache
        Assert.Equal(4, table.BlockCount(b));
        Assert.Equal(0, table.Pool.Cached); // evicted for b
        var c = table.Allocate();
        Assert.False(table.TryReserve(c, 1));
        Assert.Equal(0, table.BlockCount(c));

        var batch = new Batch();
        batch.Add(1, 0, c, logits: true);
        Assert.Contains("free blocks", Assert.Throws<InvalidOperationException>(() => table.Prepare(batch)).Message);
        Assert.Equal(0, table.BlockCount(c));
    }

    [Fact]
    public void A_restart_inside_a_shared_block_copies_it_first()
    {
        var copies = new List<(int From, int To)>();
        var table = new SlotTable(slots: 2, contextLength: 64, blockTokens: 16, blocks: 6, prefixCaching: true) { BlockCopier = (f, t) => copies.Add((f, t)) };
        var prompt = Tokens(33);
        var a = table.Allocate();
        Fill(table, a, prompt);
        var b = table.Allocate();
        Assert.Equal(32, table.AttachPrefix(b, prompt, 32));
        var shared = table.Table(b)[1];

        // b rewrites from position 20: block 1 is a's too, so b gets a copy and a keeps its prefix.
        Fill(table, b, [.. prompt[..20], 900, 901], from: 20);
        Assert.Single(copies);
        Assert.Equal(shared, copies[0].From);
        Assert.NotEqual(shared, table.Table(b)[1]);
        Assert.Equal(shared, table.Table(a)[1]);
        Assert.True(table.Pool.IsRegistered(shared));
        Assert.Equal(22, table.Length(b));

        // a alone rewrites its own cached block in place: it stops being a cached prefix.
        table.Free(b);
        table.Truncate(a, 20);
        Assert.False(table.Pool.IsRegistered(shared));
        Assert.Single(copies);
    }

    [Fact]
    public void The_contiguous_table_is_one_whole_context_block_per_slot()
    {
        var table = new SlotTable(slots: 2, contextLength: 48);
        Assert.Equal(48, table.BlockTokens);
        Assert.Equal(2, table.Blocks);
        Assert.False(table.PrefixCaching);
        var s = table.Allocate();
        Assert.True(table.TryReserve(s, 48));
        Assert.Equal(0, table.AttachPrefix(s, Tokens(48), 47));
        Assert.Equal(1, table.FreeBlocks);
    }

    [Fact]
    public void Block_sizes_must_be_multiples_of_sixteen_and_the_pool_holds_at_least_one_context()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KvLayout.BlockTokens(new ModelOptions { KvBlockTokens = 24 }, 64));
        Assert.Equal(64, KvLayout.BlockTokens(new ModelOptions { KvBlockTokens = 0 }, 64));
        Assert.Equal(8, KvLayout.Blocks(new ModelOptions { MaxSequences = 2, KvBlockTokens = 16 }, 64));
        Assert.Equal(4, KvLayout.Blocks(new ModelOptions { MaxSequences = 8, KvBlockTokens = 16, KvCacheTokens = 10 }, 64));
        Assert.Equal(5, KvLayout.Blocks(new ModelOptions { MaxSequences = 8, KvBlockTokens = 32, KvCacheTokens = 150 }, 64));
    }
}
