namespace Alpaca.Trainer.Data;

/// <summary>
/// Splits one optimizer step's examples into micro-batches. The loss is normalised by the number of
/// learned tokens in the whole global batch, so how the examples are grouped into micro-batches does
/// not change the gradient (up to float rounding) - only the compute spent on padding:
/// <list type="bullet">
/// <item>default: train.py's collator, right-padding each micro-batch to its longest example;</item>
/// <item>group-by-length: sort the step's examples by length first, so micro-batches pad less;</item>
/// <item>packing: first-fit-decreasing into rows of max_length tokens, positions restarting per
/// example and attention kept inside each example by a block-diagonal causal mask.</item>
/// </list>
/// </summary>
public static class BatchBuilder
{
    public static List<MicroBatch> Build(IReadOnlyList<SupervisedExample> examples, int microBatchSize, int padId, bool groupByLength, bool packing, int maxLength)
    {
        if (microBatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(microBatchSize), microBatchSize, "micro-batch size must be positive.");
        }

        if (packing)
        {
            return Packed(examples, microBatchSize, padId, maxLength);
        }

        var ordered = groupByLength ? examples.OrderByDescending(e => e.Length).ToList() : examples.ToList();
        var result = new List<MicroBatch>();
        for (var start = 0; start < ordered.Count; start += microBatchSize)
        {
            var chunk = ordered.GetRange(start, Math.Min(microBatchSize, ordered.Count - start));
            result.Add(Padded(chunk, padId));
        }

        return result;
    }

    /// <summary>train.py's <c>DataCollatorForSupervisedDataset</c>: pad ids with pad, labels with −100.</summary>
    public static MicroBatch Padded(IReadOnlyList<SupervisedExample> rows, int padId)
    {
        var columns = rows.Max(e => e.Length);
        var ids = new long[rows.Count * columns];
        var labels = new long[rows.Count * columns];
        Array.Fill(ids, padId);
        Array.Fill(labels, SupervisedExample.IgnoreIndex);
        var real = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            for (var t = 0; t < rows[r].Length; t++)
            {
                ids[(r * columns) + t] = rows[r].InputIds[t];
                labels[(r * columns) + t] = rows[r].Labels[t];
            }

            real += rows[r].Length;
        }

        return new MicroBatch(rows.Count, columns, ids, labels, null, null) { RealTokens = real };
    }

    private static List<MicroBatch> Packed(IReadOnlyList<SupervisedExample> examples, int rowsPerBatch, int padId, int maxLength)
    {
        // First-fit decreasing: longest examples first, each into the first row with room.
        var bins = new List<List<SupervisedExample>>();
        var fill = new List<int>();
        foreach (var example in examples.OrderByDescending(e => e.Length))
        {
            if (example.Length > maxLength)
            {
                throw new ArgumentException($"An example of {example.Length} tokens exceeds max_length {maxLength}.");
            }

            var bin = fill.FindIndex(f => f + example.Length <= maxLength);
            if (bin < 0)
            {
                bins.Add([]);
                fill.Add(0);
                bin = bins.Count - 1;
            }

            bins[bin].Add(example);
            fill[bin] += example.Length;
        }

        var result = new List<MicroBatch>();
        for (var start = 0; start < bins.Count; start += rowsPerBatch)
        {
            var count = Math.Min(rowsPerBatch, bins.Count - start);
            result.Add(PackRows(bins.GetRange(start, count), fill.GetRange(start, count).Max(), padId));
        }

        return result;
    }

    private static MicroBatch PackRows(List<List<SupervisedExample>> rows, int columns, int padId)
    {
        var n = rows.Count * columns;
        var ids = new long[n];
        var labels = new long[n];
        var positions = new long[n];
        var segments = new int[n];
        Array.Fill(ids, padId);
        Array.Fill(labels, SupervisedExample.IgnoreIndex);
        Array.Fill(segments, -1);
        var real = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            var at = r * columns;
            for (var s = 0; s < rows[r].Count; s++)
            {
                var example = rows[r][s];
                for (var t = 0; t < example.Length; t++)
                {
                    ids[at + t] = example.InputIds[t];
                    // The first token of an example is never a target: in the unpacked batch nothing precedes it.
                    labels[at + t] = t == 0 ? SupervisedExample.IgnoreIndex : example.Labels[t];
                    positions[at + t] = t;
                    segments[at + t] = s;
                }

                at += example.Length;
                real += example.Length;
            }

            // Padding continues the positions so that every row's position ids stay increasing.
            for (var t = at; t < (r + 1) * columns; t++)
            {
                positions[t] = t - (r * columns);
            }
        }

        return new MicroBatch(rows.Count, columns, ids, labels, positions, segments) { RealTokens = real };
    }
}
