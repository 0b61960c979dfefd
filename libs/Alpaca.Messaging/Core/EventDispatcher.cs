using System.Diagnostics;
using System.Diagnostics.Metrics;
using Alpaca.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.Messaging;

/// <summary>
/// Delivers an envelope to this service's handlers for its topic, once per handler: a handler that
/// succeeded records the event id in the state store and is skipped on redelivery.
/// Maps the result to <see cref="DispatchOutcome"/>; every transport uses this one class.
/// </summary>
public sealed class EventDispatcher
{
    public static readonly ActivitySource ActivitySource = new("Alpaca.Messaging");
    private static readonly Meter Meter = new("Alpaca.Messaging");
    private static readonly Counter<long> Delivered = Meter.CreateCounter<long>("alpaca_events_delivered", description: "Event deliveries by topic and outcome.");

    private readonly IServiceScopeFactory _scopes;
    private readonly IStateStore _state;
    private readonly ILogger<EventDispatcher> _logger;
    private readonly ILookup<string, EventSubscription> _byTopic;

    public EventDispatcher(IEnumerable<EventSubscription> subscriptions, IServiceScopeFactory scopes, IStateStore state, MessagingOptions options, ILogger<EventDispatcher> logger)
    {
        _scopes = scopes;
        _state = state;
        _logger = logger;
        AppId = options.AppId;
        _byTopic = subscriptions.ToLookup(s => s.Topic, StringComparer.Ordinal);
    }

    /// <summary>The consuming application (consumer group).</summary>
    public string AppId { get; }

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
            var key = StateKey.Join("messaging", "processed", AppId, subscription.HandlerName, SafeId(envelope.Id));
            if (await _state.GetAsync(key, cancellationToken).ConfigureAwait(false) is not null)
            {
                continue; // this handler already processed this event: a redelivery
            }

            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                await subscription.InvokeAsync(scope.ServiceProvider, envelope, attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (PoisonEventException ex)
            {
                _logger.LogError(ex, "Dropping event {EventId} on {Topic}: {Reason}", envelope.Id, envelope.Topic, ex.Message);
                return DispatchOutcome.Drop;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning(ex, "Handler {Handler} failed on event {EventId} (attempt {Attempt}); will retry", subscription.HandlerName, envelope.Id, attempt);
                return DispatchOutcome.Retry;
            }

            await _state.SetIfAbsentAsync(key, BitConverter.GetBytes(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), cancellationToken).ConfigureAwait(false);
        }

        return DispatchOutcome.Success;
    }

    /// <summary>Event ids come from outside; keep only characters that are safe in a state key.</summary>
    private static string SafeId(string id)
    {
        var chars = id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':' ? c : '_').ToArray();
        var safe = new string(chars);
        return safe.Length is > 0 and <= 200 && safe != "." && safe != ".."
            ? safe
            : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)));
    }
}
