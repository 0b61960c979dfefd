using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api.Namespaces;
using Alpaca.Messaging;

namespace Alpaca.Dedup.Api.IntegrationEvents;

/// <summary>
/// Announces one candidate's decision as <see cref="InstructionDecided"/> on <c>alpaca.instruction-decided.v1</c>,
/// with the pool texts its positions refer to. The event id is stable (<c>{namespace}/{candidate}</c>), so a
/// decision re-published after a redelivered <see cref="CandidatesProduced"/> is seen once by consumers.
/// </summary>
public sealed class InstructionDecidedPublisher(IEventBus bus)
{
    public Task PublishAsync(CandidatesProduced produced, CandidateRecord candidate, StoredDecision decision, NamespaceState state, CancellationToken cancellationToken = default)
    {
        var decided = new InstructionDecided
        {
            RunId = produced.RunId,
            Namespace = produced.Namespace,
            Candidate = candidate,
            Kept = decision.Kept,
            MaxF = decision.MaxF,
            MostSimilarPosition = decision.MostSimilar,
            MostSimilarInstruction = decision.MostSimilar >= 0 ? state.Pool[decision.MostSimilar] : "",
            PoolPosition = decision.PoolPosition,
        };
        if (decision.MostSimilarInstructions is { } similar)
        {
            foreach (var s in similar)
            {
                decided.MostSimilarInstructions[state.Pool[s.Position]] = s.Score;
            }
        }

        if (decision.AvgSimilarityScore is { } avg)
        {
            decided.AvgSimilarityScore = avg;
        }

        return bus.PublishAsync(decided, $"{produced.Namespace}/{candidate.CandidateId}", cancellationToken);
    }
}
