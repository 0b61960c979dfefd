using System.Text.Json;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Messaging.Dapr;

/// <summary>
/// The Dapr HTTP app channel: one POST route per subscribed topic, advertised through
/// <c>GET /dapr/subscribe</c> (Dapr.AspNetCore's <c>MapSubscribeHandler</c>), each with a dead-letter topic.
/// The route answers Dapr's status protocol: <c>{"status":"SUCCESS"}</c>, <c>RETRY</c> or <c>DROP</c>.
/// </summary>
public static class DaprSubscriptionEndpoints
{
    public const string RoutePrefix = "/dapr/events/";

    public static IEndpointRouteBuilder MapDaprSubscriptions(this IEndpointRouteBuilder endpoints)
    {
        var dispatcher = endpoints.ServiceProvider.GetRequiredService<EventDispatcher>();
        var options = endpoints.ServiceProvider.GetRequiredService<MessagingOptions>();
        foreach (var topic in dispatcher.Topics)
        {
            endpoints.MapPost(RoutePrefix + topic, (HttpContext context, CancellationToken ct) => ReceiveAsync(context, dispatcher, ct))
                .WithTopic(new TopicOptions
                {
                    PubsubName = options.Dapr.PubSubName,
                    Name = topic,
                    DeadLetterTopic = topic + options.Dapr.DeadLetterSuffix,
                })
                .WithDisplayName("dapr " + topic);
        }

        endpoints.MapSubscribeHandler();
        return endpoints;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, EventDispatcher dispatcher, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
        DispatchOutcome outcome;
        try
        {
            var envelope = EventEnvelope.Parse(buffer.ToArray());
            outcome = await dispatcher.DispatchAsync(envelope, attempt: 1, ct).ConfigureAwait(false);
        }
        catch (PoisonEventException)
        {
            outcome = DispatchOutcome.Drop;
        }

        var status = outcome switch
        {
            DispatchOutcome.Success => "SUCCESS",
            DispatchOutcome.Retry => "RETRY",
            DispatchOutcome.InProgress => "RETRY", // another delivery is running it; Dapr asks again later
            _ => "DROP",
        };
        return Results.Json(new DaprStatus(status), DaprJson);
    }

    private static readonly JsonSerializerOptions DaprJson = new(JsonSerializerDefaults.Web);

    private sealed record DaprStatus(string Status);
}
