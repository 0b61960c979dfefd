using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.ServiceDefaults;

/// <summary>
/// A service host described as data so it can run alone (its own Program.cs) or beside the others in
/// one process (<c>alpaca up</c>, integration tests).
/// </summary>
public sealed record ServiceModule(
    string Name,
    IReadOnlyList<string> GrpcServices,
    Action<WebApplicationBuilder> AddServices,
    Action<WebApplication> MapEndpoints,
    bool WithStateAndMessaging = true)
{
    /// <summary>
    /// Builds the host with configuration overrides (ports, state, transport) and optional shared
    /// singletons (the in-process broker of <c>alpaca up</c>).
    /// </summary>
    public WebApplication Build(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? shared = null, string[]? args = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args ?? [],
            // The host assembly, so hosting-startup and static-asset discovery look in the right place.
            ApplicationName = AddServices.Method.Module.Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        shared?.Invoke(builder.Services);
        builder.AddServiceDefaults(Name, WithStateAndMessaging, [.. GrpcServices]);
        AddServices(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        MapEndpoints(app);
        return app;
    }
}
