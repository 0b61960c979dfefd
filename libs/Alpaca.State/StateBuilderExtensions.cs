using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Alpaca.State;

/// <summary>
/// Registers the state store chosen by configuration:
/// <c>Alpaca:State:Store</c> = <c>local</c> (default; folder <c>Alpaca:State:Path</c>, default <c>.alpaca/state</c>)
/// or <c>redis</c> (connection <c>Alpaca:Redis</c>). Each service that keeps state calls it from its own
/// <c>Add…Services()</c>; the service shell (ServiceDefaults) does not, so the gateway has none.
/// </summary>
public static class StateBuilderExtensions
{
    public static IHostApplicationBuilder AddStateStore(this IHostApplicationBuilder builder)
    {
        var (services, configuration) = (builder.Services, builder.Configuration);
        var kind = configuration["Alpaca:State:Store"] ?? "local";
        switch (kind.ToLowerInvariant())
        {
            case "local":
                var path = configuration["Alpaca:State:Path"] ?? Path.Combine(".alpaca", "state");
                services.TryAddSingleton<IStateStore>(sp => new LocalFolderStateStore(path, sp.GetService<Microsoft.Extensions.Logging.ILogger<LocalFolderStateStore>>()));
                break;
            case "redis":
                services.AddRedisConnection(configuration);
                services.TryAddSingleton<IStateStore>(sp => new RedisStateStore(
                    sp.GetRequiredService<IConnectionMultiplexer>(),
                    configuration["Alpaca:State:Prefix"] ?? "alpaca:"));
                break;
            default:
                throw new InvalidOperationException($"Unknown Alpaca:State:Store '{kind}': use 'local' or 'redis'.");
        }

        return builder;
    }

    /// <summary>One shared Redis connection from <c>Alpaca:Redis</c> (StackExchange.Redis configuration string).</summary>
    public static IServiceCollection AddRedisConnection(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<IConnectionMultiplexer>(_ =>
        {
            var connection = configuration["Alpaca:Redis"]
                ?? throw new InvalidOperationException("Alpaca:Redis (HOST:PORT) must be set to use Redis.");
            var options = ConfigurationOptions.Parse(connection);
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        return services;
    }
}
