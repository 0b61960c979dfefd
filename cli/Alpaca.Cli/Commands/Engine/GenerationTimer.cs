using Alpaca.Inference.Serving;

namespace Alpaca.Cli.Commands.Engine;

/// <summary>
/// The timing line of <c>alpaca generate</c>, taken on the decode loop: the prompt rate is prompt tokens
/// over the time to the first token (prefill and one sampling), the generation rate is the tokens after the
/// first over the time between the first and the last.
/// </summary>
internal sealed class GenerationTimer : ISchedulerObserver
{
    public TimeSpan TimeToFirstToken { get; private set; }

    /// <summary>From the first token to the last.</summary>
    public TimeSpan DecodeTime { get; private set; }

    public void Admitted(TimeSpan queueTime, int promptTokens)
    {
    }

    public void FirstToken(TimeSpan timeToFirstToken) => TimeToFirstToken = timeToFirstToken;

    public void NextToken(TimeSpan interTokenLatency) => DecodeTime += interTokenLatency;

    public void Finished(SequenceFinishReason reason, TimeSpan endToEnd, int completionTokens)
    {
    }

    public void Rejected(SubmitOutcome outcome)
    {
    }

    public void Step(int running, int waiting, double kvCacheUsage, int batchTokens, TimeSpan forward)
    {
    }

    public static double Rate(int tokens, TimeSpan time) => tokens / Math.Max(time.TotalSeconds, 1e-9);
}
