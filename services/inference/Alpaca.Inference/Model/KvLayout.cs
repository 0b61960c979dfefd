using Alpaca.Inference.Backends;

namespace Alpaca.Inference.Model;

/// <summary>The KV block pool a <see cref="ModelOptions"/> asks for: its block size and number of blocks.</summary>
public static class KvLayout
{
    /// <summary>Positions per block: the option's (a multiple of 16), or without paging the whole context.</summary>
    public static int BlockTokens(ModelOptions options, int contextLength)
    {
        if (options.KvBlockTokens < 0 || options.KvBlockTokens % 16 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.KvBlockTokens, "KvBlockTokens must be 0 (no paging) or a positive multiple of 16.");
        }

        return options.KvBlockTokens == 0 ? contextLength : options.KvBlockTokens;
    }

    /// <summary>Blocks in the pool: enough for KvCacheTokens positions, by default for every slot's whole context.</summary>
    public static int Blocks(ModelOptions options, int contextLength)
    {
        var slots = Math.Max(1, options.MaxSequences);
        var b = BlockTokens(options, contextLength);
        var perSequence = (contextLength + b - 1) / b;
        if (options.KvBlockTokens == 0 || options.KvCacheTokens <= 0)
        {
            return slots * perSequence;
        }

        // At least one whole context, so any prompt that fits the context can run.
        return Math.Max(perSequence, (options.KvCacheTokens + b - 1) / b);
    }

    public static SlotTable Table(ModelOptions options, int contextLength) =>
        new(Math.Max(1, options.MaxSequences), contextLength, BlockTokens(options, contextLength), Blocks(options, contextLength), options.PrefixCaching && options.KvBlockTokens > 0);

    /// <summary>Bytes of the pool, for a memory budget before anything is allocated.</summary>
    public static long Bytes(ModelOptions options, int contextLength, int layers, int kvHeads, int headDim) =>
        (long)Blocks(options, contextLength) * BlockTokens(options, contextLength) * KvCacheTypes.BytesPerToken(options.KvCacheType, layers, kvHeads, headDim);
}
