using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Serving.Speculative;

/// <summary>
/// The KV cache under speculative decoding's rollback: rejected proposals are written (a verify pass writes
/// every proposal), then cut off. Afterwards the sequence computes exactly what it would have without them,
/// a block that the rejected tokens filled (and so registered in the prefix cache) is no longer found for
/// them, and blocks shared through the prefix cache are never written.
/// </summary>
public sealed class KvRollbackTests
{
    private static readonly int[] Prompt = Enumerable.Range(0, 40).Select(i => ((i * 37) + 11) % 384).ToArray();
    private static readonly int[] Good = [5, 17, 33, 250, 99, 100, 7, 8, 300, 12];
    private static readonly int[] Bad = [5, 17, 200, 201, 202, 203, 204, 205, 206, 207]; // agrees on the first two

    private static Engine Load(ModelOptions options) => Engine.Load(TinyModels.Path(GgmlType.Q8_0), options with { Threads = 2, ContextLength = 128 });

    private static float[][] Run(IEngineBackend model, int slot, ReadOnlySpan<int> tokens, int start)
    {
        var batch = new Batch();
        batch.AddSequence(tokens, start, slot, logitsForAll: true);
        model.Forward(batch);
        return Enumerable.Range(0, tokens.Length).Select(i => model.Logits(i).ToArray()).ToArray();
    }

    [Fact]
    public void A_rollback_leaves_the_cache_as_if_the_rejected_tokens_had_never_been_written()
    {
        // Reference: no paging, no prefix cache, the accepted tokens only, in one pass.
        using var plain = Load(new ModelOptions { MaxSequences = 1, KvBlockTokens = 0, PrefixCaching = false });
        var expected = Run(plain.Model, plain.Model.Cache.Allocate(), [.. Prompt, .. Good], 0)[Prompt.Length..];

        using var engine = Load(new ModelOptions { MaxSequences = 3 });
        var model = (Transformer)engine.Model;
        var cache = model.Cache;
        var a = cache.Allocate();
        Run(model, a, Prompt, 0);

        // Verify pass over t0 = Good[0] and nine proposals at 40..49: position 47 fills block 2 (32..47) with rejected tokens.
        var verified = Run(model, a, Bad, Prompt.Length);
        var filledByRejected = cache.Table(a)[2];
        Assert.True(cache.Pool.IsRegistered(filledByRejected));
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i], verified[i]); // rows fed with accepted tokens are the plain logits
        }

        // Good[0] and Good[1] kept (positions 40, 41); position 42 on rejected.
        cache.Truncate(a, Prompt.Length + 2);
        Assert.Equal(42, cache.Length(a));
        Assert.Equal(3, cache.BlockCount(a));
        Assert.False(cache.Pool.IsRegistered(filledByRejected));
        Assert.Equal(filledByRejected, cache.Table(a)[2]); // not shared, so kept in place (no copy)

        // Continue with the accepted tokens: every logit row is the plain one.
        var continued = Run(model, a, Good.AsSpan(2), Prompt.Length + 2);
        for (var i = 0; i < continued.Length; i++)
        {
            Assert.Equal(expected[i + 2], continued[i]);
        }

        // The prefix cache now knows block 2 for the accepted tokens only: the rejected continuation shares
        // just its first 8 + 2 positions with it (copied into a block of its own, partial reuse).
        var b = cache.Allocate();
        Assert.Equal(42, cache.AttachPrefix(b, [.. Prompt, .. Bad], 50));
        Assert.NotEqual(filledByRejected, cache.Table(b)[2]);
        cache.Free(b);
        var c = cache.Allocate();
        Assert.Equal(48, cache.AttachPrefix(c, [.. Prompt, .. Good], 50));
        Assert.Equal(filledByRejected, cache.Table(c)[2]);
        cache.Free(c);
    }

    [Fact]
    public void Speculating_past_a_shared_prefix_never_writes_the_shared_blocks()
    {
        using var plain = Load(new ModelOptions { MaxSequences = 1, KvBlockTokens = 0, PrefixCaching = false });
        var expected = Run(plain.Model, plain.Model.Cache.Allocate(), [.. Prompt, .. Good], 0)[Prompt.Length..];

        using var engine = Load(new ModelOptions { MaxSequences = 3 });
        var cache = ((Transformer)engine.Model).Cache;
        var a = cache.Allocate();
        Run(engine.Model, a, Prompt, 0);

        // B shares A's two whole blocks, then prefills its own tail, speculates and rolls back inside its third block.
        var b = cache.Allocate();
        int[] other = [.. Prompt[..32], .. Bad[..8]];
        Assert.Equal(32, cache.AttachPrefix(b, other, other.Length - 1));
        var shared = cache.Table(b)[..2];
        Assert.Equal(cache.Table(a)[..2], shared);
        Run(engine.Model, b, other.AsSpan(32), 32);
        Run(engine.Model, b, Bad, other.Length);
        cache.Truncate(b, other.Length + 3);
        Assert.All(shared, block => Assert.Equal(2, cache.Pool.References(block)));
        Assert.All(shared, block => Assert.True(cache.Pool.IsRegistered(block)));

        // A's own continuation reads the shared blocks: unchanged.
        var continued = Run(engine.Model, a, Good, Prompt.Length);
        for (var i = 0; i < Good.Length; i++)
        {
            Assert.Equal(expected[i], continued[i]);
        }
    }
}
