using System.Text;
using System.Threading.Channels;

namespace Alpaca.Inference.Serving;

/// <summary>A submitted request: read its events until <see cref="SequenceFinished"/> (the channel then completes).</summary>
public sealed class SequenceHandle
{
    internal SequenceHandle(ChannelReader<SequenceEvent> events, int promptTokens, ulong seed)
    {
        Events = events;
        PromptTokens = promptTokens;
        Seed = seed;
    }

    /// <summary>Deltas then the final event. Completes with an exception if the engine failed.</summary>
    public ChannelReader<SequenceEvent> Events { get; }

    public int PromptTokens { get; }

    public ulong Seed { get; }

    /// <summary>
    /// Reads every event to the end, handing each delta to <paramref name="onDelta"/> as it comes (a console
    /// streams it), and returns the whole text, the tokens and the final event. Cancel the request through
    /// the token given at submission: the sequence then ends as cancelled within one step.
    /// </summary>
    public async Task<SequenceCompletion> ReadToEndAsync(Action<SequenceDelta>? onDelta = null)
    {
        var text = new StringBuilder();
        var tokens = new List<SequenceToken>();
        SequenceFinished? finished = null;
        await foreach (var e in Events.ReadAllAsync().ConfigureAwait(false))
        {
            switch (e)
            {
                case SequenceDelta delta:
                    text.Append(delta.Text);
                    tokens.AddRange(delta.Tokens);
                    onDelta?.Invoke(delta);
                    break;
                case SequenceFinished f:
                    finished = f;
                    break;
            }
        }

        return new SequenceCompletion(text.ToString(), tokens, finished ?? throw new InvalidOperationException("The sequence ended without a final event."));
    }
}

/// <summary>A whole generation: its text (never any part of a matched stop sequence unless asked), its tokens and how it ended.</summary>
public sealed record SequenceCompletion(string Text, IReadOnlyList<SequenceToken> Tokens, SequenceFinished Finished)
{
    public IEnumerable<int> TokenIds => Tokens.Select(t => t.Id);
}
