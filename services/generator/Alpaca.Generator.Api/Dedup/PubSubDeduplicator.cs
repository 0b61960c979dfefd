using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Api.IntegrationEvents;
using Alpaca.Generator.Dedup;
using Grpc.Core;

namespace Alpaca.Generator.Api.Dedup;

/// <summary>
/// Dedup through the dedup service, as the platform runs it:
/// <list type="number">
/// <item>the run's namespace is created (or found) with the seed instructions through the dedup service's
/// gRPC <c>CreateNamespace</c> — the events carry no seeds, and creation must be confirmed before candidates flow;</item>
/// <item>a round's candidates go out as one <see cref="CandidatesProduced"/> event (in decision order), through
/// <see cref="CandidatesProducedPublisher"/>;</item>
/// <item>the dedup service decides them in order and publishes one <see cref="InstructionDecided"/> each, which
/// <see cref="IntegrationEvents.EventHandling.InstructionDecidedHandler"/> records in the <see cref="DecisionInbox"/>;</item>
/// <item>the round completes when every candidate has its decision. Candidates still undecided after
/// <see cref="GeneratorOptions.DecisionTimeout"/> are published again: the dedup service answers ids it
/// already decided from its log, so a resend can never decide a candidate twice.</item>
/// <item>while it waits, the round rereads the durable inbox every <see cref="GeneratorOptions.DecisionPollInterval"/>:
/// replicas share one consumer group, so another replica's handler may have recorded a decision for this run.</item>
/// </list>
/// </summary>
public sealed class PubSubDeduplicator(
    CandidatesProducedPublisher publisher,
    DecisionInbox inbox,
    DedupService.DedupServiceClient dedup,
    GeneratorOptions options,
    ILogger<PubSubDeduplicator> logger) : IInstructionDeduplicator
{
    public async Task EnsureNamespaceAsync(string runNamespace, IReadOnlyList<string> seedInstructions, CancellationToken cancellationToken = default)
    {
        var request = new CreateNamespaceRequest { Namespace = runNamespace };
        request.SeedInstructions.Add(seedInstructions);
        var deadline = DateTimeOffset.UtcNow + options.DedupUnavailableBudget;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await dedup.CreateNamespaceAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal && DateTimeOffset.UtcNow < deadline)
            {
                // The dedup service may still be starting (a platform restart resumes runs at once).
                logger.LogWarning("Dedup service at {Address} not reachable ({Status}); retrying namespace {Namespace}", options.DedupAddress, e.StatusCode, runNamespace);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"The dedup service refused namespace '{runNamespace}': {e.Status.Detail} ({e.StatusCode}).", e);
            }
        }
    }

    public async Task<DedupVerdict[]> SubmitAsync(string runNamespace, IReadOnlyList<CandidateInstruction> candidates, bool withExtras, CancellationToken cancellationToken = default)
    {
        if (candidates.Count == 0)
        {
            return [];
        }

        var waits = await inbox.ExpectAsync(runNamespace, [.. candidates.Select(c => c.CandidateId)], cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            var missing = candidates.Where((_, i) => !waits[i].IsCompleted).ToList();
            if (missing.Count == 0)
            {
                return [.. waits.Select(w => w.Result)];
            }

            if (attempt > 1)
            {
                logger.LogWarning("{Missing} of {Count} decisions for namespace {Namespace} not received within {Timeout}; publishing them again (attempt {Attempt})",
                    missing.Count, candidates.Count, runNamespace, options.DecisionTimeout, attempt);
            }

            await publisher.PublishAsync(runNamespace, missing, withExtras, cancellationToken).ConfigureAwait(false);
            var resendAt = DateTimeOffset.UtcNow + options.DecisionTimeout;
            while (!waits.All(w => w.IsCompleted) && DateTimeOffset.UtcNow < resendAt)
            {
                try
                {
                    var slice = TimeSpan.FromTicks(Math.Min(options.DecisionPollInterval.Ticks, Math.Max(1, (resendAt - DateTimeOffset.UtcNow).Ticks)));
                    await Task.WhenAll(waits).WaitAsync(slice, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Decisions handled by another replica are only in the durable inbox: look there.
                    await inbox.RefreshAsync(runNamespace, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
