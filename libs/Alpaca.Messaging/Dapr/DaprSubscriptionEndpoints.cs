using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
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
                .WithDisplayName("dapr " + topic)
                .AllowAnonymous()
                .AddEndpointFilter(RequireAppToken);
        }

        endpoints.MapSubscribeHandler().AllowAnonymous();
        return endpoints;
    }

    /// <summary>
    /// The Dapr app channel carries no API key; with Dapr's app API token configured (<c>APP_API_TOKEN</c>, as Dapr
    /// sets it for the app), an event must carry it in <c>dapr-api-token</c>, so a pod that reaches the service
    /// cannot forge one. docs/security.md.
    /// </summary>
    private static async ValueTask<object?> RequireAppToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var configuration = context.HttpContext.RequestServices.GetRequiredService<IConfiguration>();
        var expected = configuration["Alpaca:Auth:AppApiToken"] ?? configuration["APP_API_TOKEN"];
        if (!string.IsNullOrEmpty(expected))
        {
            var given = context.HttpContext.Request.Headers["dapr-api-token"].FirstOrDefault() ?? "";
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected)))
            {
                return Results.Unauthorized();
            }
        }

        return await next(context).ConfigureAwait(false);
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
