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
    Action<WebApplication> MapEndpoints)
{
    /// <summary>
    /// Settings this service takes when it runs beside others in one process (<c>alpaca up</c>), from the other
    /// services' gRPC addresses by name (e.g. the generator finds the dedup service); configuration given to the
    /// platform overrides them. Null: none.
    /// </summary>
    public Func<IReadOnlyDictionary<string, Uri>, IReadOnlyDictionary<string, string?>>? EmbeddedDefaults { get; init; }

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
        builder.AddServiceDefaults(Name, [.. GrpcServices]);
        AddServices(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        MapEndpoints(app);
        return app;
    }
}
