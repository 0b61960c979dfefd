using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Dedup;
using Alpaca.Messaging;

namespace Alpaca.Generator.Api.IntegrationEvents;

/// <summary>
/// Sends a round's candidates to the dedup service as one <see cref="CandidatesProduced"/> on
/// <c>alpaca.candidates-produced.v1</c>, in decision order. Every publication gets a fresh event id: a resend
/// must reach the dedup handler even if an earlier copy with the same candidates was processed (its
/// decisions may have been lost in our crash).
/// </summary>
public sealed class CandidatesProducedPublisher(IEventBus bus)
{
    public Task PublishAsync(string runNamespace, IReadOnlyList<CandidateInstruction> candidates, bool withExtras, CancellationToken cancellationToken = default) =>
        bus.PublishAsync(Event(runNamespace, candidates, withExtras), $"{runNamespace}/{candidates[0].CandidateId}/{Guid.NewGuid():N}", cancellationToken);

    private static CandidatesProduced Event(string ns, IReadOnlyList<CandidateInstruction> candidates, bool withExtras)
    {
        var e = new CandidatesProduced
        {
            RunId = ns.StartsWith("gen-", StringComparison.Ordinal) ? ns["gen-".Length..] : ns,
            Namespace = ns,
            Round = RoundOf(candidates[0].CandidateId),
            IncludeExtras = withExtras,
        };
        e.Candidates.Add(candidates.Select(c => new CandidateRecord { CandidateId = c.CandidateId, Instruction = c.Instruction, Input = c.Input, Output = c.Output }));
        return e;
    }

    /// <summary>The round of an id <c>r{round}.p{prompt}.s{segment}</c>; 0 for other ids (e.g. resubmitted records).</summary>
    private static long RoundOf(string candidateId)
    {
        var dot = candidateId.IndexOf('.', StringComparison.Ordinal);
        return candidateId.StartsWith('r') && dot > 1 && long.TryParse(candidateId.AsSpan(1, dot - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var round) ? round : 0;
    }
}
