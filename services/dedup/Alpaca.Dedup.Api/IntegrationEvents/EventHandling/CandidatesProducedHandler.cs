using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api.Namespaces;
using Alpaca.Messaging;

namespace Alpaca.Dedup.Api.IntegrationEvents.EventHandling;

/// <summary>
/// Decides the candidates a generator produced and publishes one <see cref="InstructionDecided"/> per
/// candidate. Redelivery is safe: a candidate id already decided is answered from its first decision, and
/// the published event id is stable, so consumers see it once.
/// </summary>
public sealed class CandidatesProducedHandler(DedupNamespaces namespaces, InstructionDecidedPublisher publisher) : IEventHandler<CandidatesProduced>
{
    public async Task HandleAsync(CandidatesProduced @event, EventContext context, CancellationToken cancellationToken)
    {
        // A namespace that does not exist yet is retried: the run creates it before producing candidates.
        var state = await namespaces.GetAsync(@event.Namespace, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Namespace '{@event.Namespace}' does not exist (yet).");
        var results = await namespaces.SubmitAsync(state, @event.Candidates.Select(c => (c.CandidateId, c.Instruction)).ToList(), @event.IncludeExtras, cancellationToken).ConfigureAwait(false);
        foreach (var (candidate, (decision, _)) in @event.Candidates.Zip(results))
        {
            await publisher.PublishAsync(@event, candidate, decision, state, cancellationToken).ConfigureAwait(false);
        }
    }
}
