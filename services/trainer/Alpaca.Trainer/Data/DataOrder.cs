namespace Alpaca.Trainer.Data;

/// <summary>
/// The order examples are visited in: a fresh permutation every epoch, a pure function of
/// (seed, epoch) (SplitMix64 feeding a Fisher–Yates shuffle). Because nothing else decides the order,
/// a resumed run needs only the step number to see exactly the batches the interrupted run would have.
/// Each optimizer step takes the next <c>globalBatch</c> examples; the last batch of an epoch may be smaller.
/// </summary>
public static class DataOrder
{
    public static long StepsPerEpoch(int exampleCount, int globalBatch) => (exampleCount + globalBatch - 1) / globalBatch;

    public static int[] Permutation(int count, ulong seed, long epoch)
    {
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        var state = Mix(seed, (ulong)epoch);
        for (var i = count - 1; i > 0; i--)
        {
            var j = (int)(Next(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    /// <summary>Example indices of optimizer step <paramref name="stepInEpoch"/> of <paramref name="epoch"/>.</summary>
    public static int[] GlobalBatch(int[] epochPermutation, long stepInEpoch, int globalBatch)
    {
        var start = checked((int)(stepInEpoch * globalBatch));
        var length = Math.Min(globalBatch, epochPermutation.Length - start);
        if (length <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepInEpoch), stepInEpoch, "Step is past the end of the epoch.");
        }

        return epochPermutation.AsSpan(start, length).ToArray();
    }

    /// <summary>A well-mixed 64-bit value from two inputs (used for per-step dropout seeds too).</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        var state = a ^ (0x9E3779B97F4A7C15UL * (b + 1));
        return Next(ref state);
    }

    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
