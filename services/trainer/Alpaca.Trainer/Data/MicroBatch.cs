namespace Alpaca.Trainer.Data;

/// <summary>
/// One forward pass worth of token rows, flattened row-major ([Rows, Columns]). Right-padded rows
/// carry the pad id and label −100. Packed rows also carry <see cref="PositionIds"/> that restart at
/// every example and <see cref="SegmentIds"/> (example number within the row, −1 for padding) from
/// which the block-diagonal causal mask is built.
/// </summary>
public sealed record MicroBatch(int Rows, int Columns, long[] InputIds, long[] Labels, long[]? PositionIds, int[]? SegmentIds)
{
    /// <summary>Non-padding tokens fed to the model.</summary>
    public int RealTokens { get; init; }

    /// <summary>
    /// Flat indices r·(Columns−1)+t of the shifted positions whose target labels[r, t+1] is learned:
    /// the hidden state at t predicts the token at t+1, as in HF's causal-LM loss.
    /// </summary>
    public long[] TrainedPositions()
    {
        var positions = new List<long>();
        for (var r = 0; r < Rows; r++)
        {
            for (var t = 0; t < Columns - 1; t++)
            {
                if (Labels[(r * Columns) + t + 1] != SupervisedExample.IgnoreIndex)
                {
                    positions.Add(((long)r * (Columns - 1)) + t);
                }
            }
        }

        return positions.ToArray();
    }

    /// <summary>The learned target ids, in the order of <see cref="TrainedPositions"/>.</summary>
    public long[] TrainedTargets()
    {
        var targets = new List<long>();
        for (var r = 0; r < Rows; r++)
        {
            for (var t = 1; t < Columns; t++)
            {
                var label = Labels[(r * Columns) + t];
                if (label != SupervisedExample.IgnoreIndex)
                {
                    targets.Add(label);
                }
            }
        }

        return targets.ToArray();
    }
}
