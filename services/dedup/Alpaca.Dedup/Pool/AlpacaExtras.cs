using Alpaca.Reference;

namespace Alpaca.Dedup.Pool;

/// <summary>
/// Alpaca's <c>most_similar_instructions</c> and <c>avg_similarity_score</c> from a kept candidate's scores
/// against the whole pool (in pool order):
/// <c>{all_instructions[i]: rouge_scores[i] for i in np.argsort(rouge_scores)[-10:][::-1]}</c> and
/// <c>float(np.mean(rouge_scores))</c>.
/// </summary>
public static class AlpacaExtras
{
    public const int Top = 10;

    /// <summary>
    /// The top 10, highest first. numpy's argsort quicksort gives equal scores no fixed order (and its
    /// SIMD variants differ between CPUs), so equal scores here go in pool order: a documented choice.
    /// The mean is bit-exact: numpy's pairwise summation over the same order.
    /// </summary>
    public static DedupExtras Compute(ReadOnlySpan<double> scores, Func<int, string> instruction)
    {
        Span<int> top = stackalloc int[Top];
        var count = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var s = scores[i];
            if (count == Top && s <= scores[top[Top - 1]])
            {
                continue; // not above the 10th; an equal score at a later position stays out
            }

            // Insert after every kept entry scoring ≥ s, so equal scores stay in pool order.
            var at = count == Top ? Top - 1 : count++;
            while (at > 0 && scores[top[at - 1]] < s)
            {
                top[at] = top[at - 1];
                at--;
            }

            top[at] = i;
        }

        var similar = new SimilarInstruction[count];
        for (var k = 0; k < count; k++)
        {
            similar[k] = new SimilarInstruction(top[k], instruction(top[k]), scores[top[k]]);
        }

        return new DedupExtras(similar, NumpyMath.Mean(scores));
    }
}
