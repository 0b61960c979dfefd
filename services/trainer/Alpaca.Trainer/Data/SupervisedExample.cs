namespace Alpaca.Trainer.Data;

/// <summary>
/// One tokenized training example: <see cref="InputIds"/> = BOS + prompt + response + EOS (truncated),
/// and <see cref="Labels"/> equal to the ids except the first <see cref="SourceLength"/> (the prompt),
/// which are <see cref="IgnoreIndex"/> so that only the response and its EOS are learned.
/// </summary>
public sealed record SupervisedExample(int[] InputIds, int[] Labels, int SourceLength)
{
    /// <summary>train.py's IGNORE_INDEX; cross-entropy skips these positions.</summary>
    public const int IgnoreIndex = -100;

    public int Length => InputIds.Length;

    /// <summary>Positions whose label is learned (the loss is their mean over a global batch).</summary>
    public int TrainedTokens => Labels.Count(l => l != IgnoreIndex);
}
