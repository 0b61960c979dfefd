using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.TestSupport;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an OS-chosen port, for test doubles of servers outside the machine
/// (an OpenAI-compatible teacher, a public file origin): <paramref name="map"/> adds its endpoints.
/// </summary>
public static class LoopbackHttp
{
    /// <summary>Starts the app; returns it and its address ("http://127.0.0.1:PORT", no trailing slash).</summary>
    public static (WebApplication App, string Address) Start(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address.TrimEnd('/'));
    }
}
