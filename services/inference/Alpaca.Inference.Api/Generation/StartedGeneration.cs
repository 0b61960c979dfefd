using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Api.Generation;

/// <summary>A generation accepted by a model's scheduler.</summary>
/// <remarks><paramref name="charge"/> receives the tokens generated, once, when reading ends (finished, failed or abandoned).</remarks>
public sealed class StartedGeneration(ServedModel model, SequenceHandle handle, Func<int, ValueTask>? charge = null)
{
    public ServedModel Model { get; } = model;

    public SequenceHandle Handle { get; } = handle;

    /// <summary>
    /// Events in batches: everything already produced is returned together, so a slow reader gets fewer,
    /// larger messages instead of falling behind. The last batch ends with the <see cref="SequenceFinished"/>.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<SequenceEvent>> ReadBatchesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = Handle.Events;
        // The finish event's count is what the sequence generated; a caller that went away first is charged
        // for the tokens it was sent.
        int streamed = 0, generated = -1;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var batch = new List<SequenceEvent>();
                while (reader.TryRead(out var e))
                {
                    batch.Add(e);
                    switch (e)
                    {
                        case SequenceDelta d:
                            streamed += d.Tokens.Count;
                            break;
                        case SequenceFinished f:
                            generated = f.CompletionTokens;
                            break;
                    }
                }

                if (batch.Count > 0)
                {
                    yield return batch;
                }
            }
        }
        finally
        {
            if (charge is not null)
            {
                await charge(generated >= 0 ? generated : streamed).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Merges the deltas of a batch (text concatenated, tokens in order); the finish event if present.</summary>
    public static (string Text, List<SequenceToken> Tokens, SequenceFinished? Finished) Merge(IReadOnlyList<SequenceEvent> batch)
    {
        var text = new System.Text.StringBuilder();
        var tokens = new List<SequenceToken>();
        SequenceFinished? finished = null;
        foreach (var e in batch)
        {
            switch (e)
            {
                case SequenceDelta d:
                    text.Append(d.Text);
                    tokens.AddRange(d.Tokens);
                    break;
                case SequenceFinished f:
                    finished = f;
                    break;
            }
        }

        return (text.ToString(), tokens, finished);
    }
}
