using System.Diagnostics;
using System.Diagnostics.Metrics;
using Alpaca.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.Messaging;

/// <summary>
/// Delivers an envelope to this service's handlers for its topic, once per handler. For each handler,
/// "already processed?" and "processing" are one atomic step: the handler runs only under a processing
/// lease on <c>messaging/processing/{app}/{handler}/{event}</c> taken with the state store's atomic
/// set-if-absent with expiry and renewed by a heartbeat while the handler runs (<see cref="HeldLease"/>), so
/// a second delivery of the same event (a message re-claimed while the first
/// is still running, on any replica sharing the state store) finds the lease held and reports
/// <see cref="DispatchOutcome.InProgress"/> instead of running the handler twice. Success records
/// <c>messaging/processed/…</c> (kept <see cref="MessagingOptions.ProcessedRetention"/>) and then releases
/// the lease; a failure releases it at once so a retry can run.
/// Maps the result to <see cref="DispatchOutcome"/>; every transport uses this one class.
/// </summary>
public sealed class EventDispatcher
{
    public static readonly ActivitySource ActivitySource = new("Alpaca.Messaging");
    private static readonly Meter Meter = new("Alpaca.Messaging");
    private static readonly Counter<long> Delivered = Meter.CreateCounter<long>("alpaca_events_delivered", description: "Event deliveries by topic and outcome.");

    private readonly IServiceScopeFactory _scopes;
    private readonly IStateStore _state;
    private readonly MessagingOptions _options;
    private readonly ILogger<EventDispatcher> _logger;
    private readonly ILookup<string, EventSubscription> _byTopic;

    public EventDispatcher(IEnumerable<EventSubscription> subscriptions, IServiceScopeFactory scopes, IStateStore state, MessagingOptions options, ILogger<EventDispatcher> logger)
    {
        _scopes = scopes;
        _state = state;
        _options = options;
        _logger = logger;
        AppId = options.AppId;
        _byTopic = subscriptions.ToLookup(s => s.Topic, StringComparer.Ordinal);
    }

    /// <summary>The consuming application (consumer group).</summary>
    public string AppId { get; }

    /// <summary>Owner name of this process's processing leases.</summary>
    public string LeaseOwner { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>Topics this service subscribes to.</summary>
    public IReadOnlyList<string> Topics => _byTopic.Select(g => g.Key).Order(StringComparer.Ordinal).ToList();

    public async Task<DispatchOutcome> DispatchAsync(EventEnvelope envelope, int attempt, CancellationToken cancellationToken)
    {
        using var activity = ActivitySource.StartActivity($"{envelope.Topic} receive", ActivityKind.Consumer);
        activity?.SetTag("messaging.message.id", envelope.Id);
        activity?.SetTag("messaging.destination.name", envelope.Topic);
        var outcome = await DispatchCoreAsync(envelope, attempt, cancellationToken).ConfigureAwait(false);
        Delivered.Add(1, new KeyValuePair<string, object?>("topic", envelope.Topic), new KeyValuePair<string, object?>("outcome", outcome.ToString()));
        return outcome;
    }

    /// <summary>
    /// Without running any handler: <see cref="DispatchOutcome.Success"/> when every handler has processed
    /// the event, <see cref="DispatchOutcome.InProgress"/> when one is running it now, else
    /// <see cref="DispatchOutcome.Retry"/>. Lets a transport that is about to dead-letter an event after
    /// too many deliveries tell a slow success from a failure.
    /// </summary>
    public async Task<DispatchOutcome> InspectAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var outcome = DispatchOutcome.Success;
        foreach (var subscription in _byTopic[envelope.Topic])
        {
            var (processedKey, leaseKey) = Keys(subscription, envelope);
            if (await _state.GetAsync(processedKey, cancellationToken).ConfigureAwait(false) is not null)
            {
                continue;
            }

            // Taking the lease is the only atomic way to ask whether someone holds it; give it straight back.
            var lease = await _state.TryAcquireLeaseAsync(leaseKey, LeaseOwner, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                return DispatchOutcome.InProgress;
            }

            await _state.ReleaseLeaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
            outcome = DispatchOutcome.Retry;
        }

        return outcome;
    }

    private async Task<DispatchOutcome> DispatchCoreAsync(EventEnvelope envelope, int attempt, CancellationToken cancellationToken)
    {
        var handlers = _byTopic[envelope.Topic].ToList();
        if (handlers.Count == 0)
        {
            _logger.LogWarning("No handler for topic {Topic}; dropping event {EventId}", envelope.Topic, envelope.Id);
            return DispatchOutcome.Drop;
        }

        foreach (var subscription in handlers)
        {
            var (processedKey, leaseKey) = Keys(subscription, envelope);
            if (await _state.GetAsync(processedKey, cancellationToken).ConfigureAwait(false) is not null)
            {
                continue; // this handler already processed this event: a redelivery
            }

            // A heartbeat lease: renewed every TTL/3 while the handler runs, so a handler may run as long as it
            // needs while a holder that died (SIGKILL, OOM, a lost node) blocks the event for one TTL at most.
            var lease = await HeldLease.TryAcquireAsync(_state, leaseKey, LeaseOwner, LeaseFor(subscription), _logger, cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                _logger.LogInformation("Handler {Handler} is already processing event {EventId} elsewhere (attempt {Attempt})", subscription.HandlerName, envelope.Id, attempt);
                return DispatchOutcome.InProgress;
            }

            // Success: released (by disposal) after "processed" is recorded, so no moment is left where neither
            // guards it. Failure or cancellation: released at once so that a retry can run without waiting for expiry.
            await using (lease.ConfigureAwait(false))
            {
                // The holder before us may have finished between our check and our lease.
                if (await _state.GetAsync(processedKey, cancellationToken).ConfigureAwait(false) is not null)
                {
                    continue;
                }

                // A lease lost mid-handler (the store refused a renewal: another delivery may run it now) stops the handler.
                using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
                var failure = await InvokeAsync(subscription, envelope, attempt, running.Token, cancellationToken).ConfigureAwait(false);
                if (failure is { } outcome)
                {
                    return outcome;
                }

                await _state.SetWithExpiryAsync(processedKey, BitConverter.GetBytes(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), _options.ProcessedRetention, cancellationToken).ConfigureAwait(false);
            }
        }

        return DispatchOutcome.Success;
    }

    /// <summary>Runs one handler; null on success, else the outcome of its failure.</summary>
    private async Task<DispatchOutcome?> InvokeAsync(EventSubscription subscription, EventEnvelope envelope, int attempt, CancellationToken running, CancellationToken stopping)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            await subscription.InvokeAsync(scope.ServiceProvider, envelope, attempt, running).ConfigureAwait(false);
            return null;
        }
        catch (PoisonEventException ex)
        {
            _logger.LogError(ex, "Dropping event {EventId} on {Topic}: {Reason}", envelope.Id, envelope.Topic, ex.Message);
            return DispatchOutcome.Drop;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            _logger.LogWarning(ex, "Handler {Handler} failed on event {EventId} (attempt {Attempt}); will retry", subscription.HandlerName, envelope.Id, attempt);
            return DispatchOutcome.Retry;
        }
    }

    private TimeSpan LeaseFor(EventSubscription subscription) =>
        _options.ProcessingLeases.TryGetValue(subscription.HandlerName, out var configured) ? configured
        : subscription.ProcessingLease ?? _options.ProcessingLease;

    private (string Processed, string Lease) Keys(EventSubscription subscription, EventEnvelope envelope)
    {
        var id = EventIdKey.Encode(envelope.Id);
        return (StateKey.Join("messaging", "processed", AppId, subscription.HandlerName, id),
                StateKey.Join("messaging", "processing", AppId, subscription.HandlerName, id));
    }
}
