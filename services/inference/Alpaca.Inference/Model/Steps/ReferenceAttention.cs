using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// Attention of one query head over one sequence's cached positions, written plainly: element by element
/// through the block table, in double sums. The test oracle for <see cref="AttentionStep"/>'s gather and
/// vector kernel (block layout, element types, padding lanes).
/// </summary>
public static class ReferenceAttention
{
    /// <summary>
    /// softmax(q·Kᵀ/√d)·V over positions 0..n-1 of the sequence with block table <paramref name="table"/>.
    /// The query (already rotated) and the probabilities are rounded to fp16 when the cache type is not f32, as the engine does.
    /// </summary>
    public static float[] Attend(KvCache cache, int[] table, int layer, int kvHead, ReadOnlySpan<float> query, int n)
    {
        var hd = cache.HeadDim;
        var b = cache.BlockTokens;
        var q = query.ToArray();
        if (cache.RoundsToHalf)
        {
            for (var d = 0; d < hd; d++)
            {
                q[d] = Fp16.Round(q[d]);
            }
        }

        var scores = new double[n];
        var max = double.NegativeInfinity;
        for (var p = 0; p < n; p++)
        {
            var dot = 0.0;
            for (var d = 0; d < hd; d++)
            {
                dot += (double)q[d] * cache.Key(layer, table[p / b], p % b, kvHead, d);
            }

            scores[p] = dot / Math.Sqrt(hd);
            max = Math.Max(max, scores[p]);
        }

        var sum = 0.0;
        for (var p = 0; p < n; p++)
        {
            scores[p] = Math.Exp(scores[p] - max);
            sum += scores[p];
        }

        var output = new double[hd];
        for (var p = 0; p < n; p++)
        {
            var weight = scores[p] / sum;
            if (cache.RoundsToHalf)
            {
                weight = Fp16.Round((float)weight);
            }

            for (var d = 0; d < hd; d++)
            {
                output[d] += weight * cache.Value(layer, table[p / b], p % b, kvHead, d);
            }
        }

        return output.Select(v => (float)v).ToArray();
    }
}
