using Alpaca.Messaging.Dapr;
using Alpaca.Messaging.InProcess;
using Alpaca.Messaging.Redis;
using Alpaca.State;
using Dapr.Client;
using Google.Protobuf;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Alpaca.Messaging;

/// <summary>
/// Registers the event bus chosen by <c>Alpaca:Messaging:Transport</c> (<c>inprocess</c>, <c>redis</c>,
/// <c>dapr</c>) and the subscriber that feeds this service's handlers. Each service that publishes or handles
/// integration events calls it from its own <c>Add…Services()</c> (after <c>AddStateStore</c>: the dispatcher
/// records processed event ids there); the service shell (ServiceDefaults) does not, so the gateway has none.
/// </summary>
public static class MessagingBuilderExtensions
{
    public static IHostApplicationBuilder AddEventBus(this IHostApplicationBuilder builder, string appId)
    {
        var (services, configuration) = (builder.Services, builder.Configuration);
        var options = new MessagingOptions { AppId = appId };
        configuration.GetSection("Alpaca:Messaging").Bind(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton<EventDispatcher>();

        switch (options.Transport.ToLowerInvariant())
        {
            case "inprocess":
                services.TryAddSingleton<InProcessBroker>();
                services.TryAddSingleton<IEventBus, InProcessEventBus>();
                services.AddHostedService<InProcessSubscriber>();
                break;
            case "redis":
                services.AddRedisConnection(configuration);
                services.TryAddSingleton<IEventBus, RedisStreamsEventBus>();
                services.AddHostedService<RedisStreamsSubscriber>();
                break;
            case "dapr":
                services.AddDaprClient();
                services.TryAddSingleton<IEventBus, DaprEventBus>();
                break;
            default:
                throw new InvalidOperationException($"Unknown Alpaca:Messaging:Transport '{options.Transport}': use inprocess, redis or dapr.");
        }

        return builder;
    }

    /// <summary>Subscribes a handler to the topic of <typeparamref name="TEvent"/>; <paramref name="processingLease"/>
    /// overrides the TTL of <see cref="MessagingOptions.ProcessingLease"/> for this handler (the lease is renewed while it runs).</summary>
    public static IServiceCollection AddEventHandler<TEvent, THandler>(this IServiceCollection services, TimeSpan? processingLease = null)
        where TEvent : IMessage<TEvent>, new()
        where THandler : class, IEventHandler<TEvent>
    {
        services.TryAddScoped<THandler>();
        services.AddSingleton(EventSubscription.Create<TEvent, THandler>(processingLease));
        return services;
    }

    /// <summary>Maps the Dapr app-channel endpoints when the Dapr transport is configured (no-op otherwise).</summary>
    public static IEndpointRouteBuilder MapEventSubscriptions(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<MessagingOptions>();
        if (string.Equals(options.Transport, "dapr", StringComparison.OrdinalIgnoreCase))
        {
            endpoints.MapDaprSubscriptions();
        }

        return endpoints;
    }
}
