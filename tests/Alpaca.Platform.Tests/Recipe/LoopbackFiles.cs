using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.Platform.Tests.Recipe;

/// <summary>A public file origin on 127.0.0.1 (real Kestrel, plain HTTP GET): serves fixed bytes at one path and counts requests.</summary>
internal sealed class LoopbackFiles : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    public LoopbackFiles(string path, byte[] body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapGet(path, async (HttpContext http) =>
        {
            Interlocked.Increment(ref _requests);
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(body);
        });
        _app.StartAsync().GetAwaiter().GetResult();
        Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + path;
    }

    public string Url { get; }

    public int Requests => Volatile.Read(ref _requests);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
