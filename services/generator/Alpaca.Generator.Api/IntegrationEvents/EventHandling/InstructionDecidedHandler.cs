using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Dedup;
using Alpaca.Generator.Dedup;
using Alpaca.Messaging;

namespace Alpaca.Generator.Api.IntegrationEvents.EventHandling;

/// <summary>
/// Consumes the dedup service's decisions (one <see cref="InstructionDecided"/> per candidate) and hands
/// them to the rounds waiting in <see cref="PubSubDeduplicator"/>, through the durable <see cref="DecisionInbox"/>.
/// </summary>
public sealed class InstructionDecidedHandler(DecisionInbox inbox) : IEventHandler<InstructionDecided>
{
    public Task HandleAsync(InstructionDecided @event, EventContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(@event.Namespace) || @event.Candidate is null || string.IsNullOrEmpty(@event.Candidate.CandidateId))
        {
            throw new PoisonEventException("InstructionDecided without namespace or candidate id.");
        }

        // Proto maps keep insertion order in Google.Protobuf, so the dedup service's highest-first order survives.
        var similar = @event.MostSimilarInstructions.Count > 0
            ? @event.MostSimilarInstructions.Select(s => new ScoredInstruction(s.Key, s.Value)).ToList()
            : null;
        var verdict = new DedupVerdict(
            @event.Candidate.CandidateId,
            @event.Kept,
            @event.MaxF,
            string.IsNullOrEmpty(@event.MostSimilarInstruction) ? null : @event.MostSimilarInstruction,
            similar,
            @event.HasAvgSimilarityScore ? @event.AvgSimilarityScore : null);
        return inbox.RecordAsync(@event.Namespace, verdict, cancellationToken);
    }
}
