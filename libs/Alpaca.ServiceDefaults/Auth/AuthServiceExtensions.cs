using Alpaca.State;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// Deny by default: every endpoint needs the admin scope unless it declares its own scope beside its route
/// (<see cref="RequireScopes"/> for gRPC, <c>RequireAuthorization(scope.PolicyName())</c> for HTTP) or is
/// anonymous (health). Registered by <c>AddServiceDefaults</c>, so every host and the gateway get it.
/// </summary>
public static class AuthServiceExtensions
{
    public static WebApplicationBuilder AddAlpacaAuth(this WebApplicationBuilder builder)
    {
        var options = new AuthOptions();
        builder.Configuration.GetSection(AuthOptions.Section).Bind(options);
        options.AppApiToken ??= builder.Configuration["APP_API_TOKEN"];
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(new AuthRedis(new Lazy<IConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(Redis(builder.Configuration)))));
        builder.Services.TryAddSingleton(sp => new ApiKeyStore(KeyStateStore(sp, builder.Configuration, options), options.Pepper));
        var authentication = builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        JwtBearerSetup.Add(authentication, options.Jwt);
        // Quotas are shared where keys are (Redis: every replica counts into one bucket per key).
        builder.Services.TryAddSingleton(sp => IsRedis(builder.Configuration, options)
            ? new TokenQuotas(options, sp.GetService<TimeProvider>(), SharedRedis(sp, builder.Configuration), builder.Configuration["Alpaca:State:Prefix"] ?? "alpaca:")
            : new TokenQuotas(options, sp.GetService<TimeProvider>()));
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuthRefusals>();
        builder.Services.AddAuthorization(o =>
        {
            foreach (var scope in ApiScopes.All)
            {
                o.AddPolicy(scope.PolicyName(), p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
            }

            o.AddPolicy(ApiScopes.AuthenticatedPolicy, p => p.RequireAuthenticatedUser());
            // An endpoint that declares nothing is an operator's: /metrics, reflection, a route added later.
            o.FallbackPolicy = o.GetPolicy(ApiScope.Admin.PolicyName());
        });
        return builder;
    }

    public static WebApplication UseAlpacaAuth(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<AuthOptions>();
        if (!options.Enabled)
        {
            app.Logger.LogWarning("AUTHENTICATION IS OFF (Alpaca:Auth:Enabled=false / --insecure-no-auth): every caller that reaches this host acts as admin.");
        }

        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// Declares each gRPC method's scope, beside the <c>MapGrpcService</c> it belongs to. A method of the
    /// service's descriptor without an entry stops the host at start-up, so a method added later cannot be
    /// served unscoped (it would fall to the admin-only fallback otherwise).
    /// </summary>
    public static GrpcServiceEndpointConventionBuilder RequireScopes(this GrpcServiceEndpointConventionBuilder builder, Google.Protobuf.Reflection.ServiceDescriptor service, IReadOnlyDictionary<string, ApiScope> scopes)
    {
        var missing = service.Methods.Select(m => m.Name).Where(m => !scopes.ContainsKey(m)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"{service.FullName}: no scope declared for {string.Join(", ", missing)}.");
        }

        builder.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<GrpcMethodMetadata>().FirstOrDefault() is { } method && scopes.TryGetValue(method.Method.Name, out var scope))
            {
                endpoint.Metadata.Add(new AuthorizeAttribute(scope.PolicyName()));
            }
        });
        return builder;
    }

    // Keys are shared by every host of a platform, so they do not live in one service's own state: Redis (the
    // platform's shared store) or a folder of their own (Alpaca:Auth:Path).
    private static IStateStore KeyStateStore(IServiceProvider services, IConfiguration configuration, AuthOptions options)
    {
        if (IsRedis(configuration, options))
        {
            return new RedisStateStore(SharedRedis(services, configuration), configuration["Alpaca:State:Prefix"] ?? "alpaca:");
        }

        return new LocalFolderStateStore(options.Path, services.GetService<ILogger<LocalFolderStateStore>>());
    }

    private static bool IsRedis(IConfiguration configuration, AuthOptions options) =>
        string.Equals(options.Store ?? configuration["Alpaca:State:Store"] ?? "local", "redis", StringComparison.OrdinalIgnoreCase);

    // The host's own connection when it has one (a service with Redis state), else one for auth, made once.
    private static IConnectionMultiplexer SharedRedis(IServiceProvider services, IConfiguration configuration) =>
        services.GetService<IConnectionMultiplexer>() ?? services.GetRequiredService<AuthRedis>().Connection.Value;

    private static ConfigurationOptions Redis(IConfiguration configuration)
    {
        var options = ConfigurationOptions.Parse(configuration["Alpaca:Redis"]
            ?? throw new InvalidOperationException("Alpaca:Redis (HOST:PORT) must be set to keep API keys in Redis."));
        options.AbortOnConnectFail = false;
        return options;
    }
}

/// <summary>The Redis connection of a host that has none of its own (the gateway): keys and quotas share it.</summary>
internal sealed record AuthRedis(Lazy<IConnectionMultiplexer> Connection);

/// <summary>Sends <c>Authorization: Bearer KEY</c> on every request (CLI, tests, peers calling as a caller).</summary>
public sealed class BearerKeyHandler(string? key, HttpMessageHandler? inner = null) : DelegatingHandler(inner ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(key) && request.Headers.Authorization is null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Sends the shared service credential on every request (a service calling a peer).</summary>
public sealed class ServiceTokenHandler(string? token, HttpMessageHandler? inner = null) : DelegatingHandler(inner ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Remove(AuthOptions.ServiceTokenHeader);
            request.Headers.TryAddWithoutValidation(AuthOptions.ServiceTokenHeader, token);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
