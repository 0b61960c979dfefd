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
}
