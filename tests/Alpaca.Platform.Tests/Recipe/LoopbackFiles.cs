using Alpaca.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Alpaca.Platform.Tests.Recipe;

/// <summary>A public file origin on 127.0.0.1 (real Kestrel, plain HTTP GET): serves fixed bytes at one path and counts requests.</summary>
internal sealed class LoopbackFiles : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    public LoopbackFiles(string path, byte[] body)
    {
        (_app, var address) = LoopbackHttp.Start(app => app.MapGet(path, async (HttpContext http) =>
        {
            Interlocked.Increment(ref _requests);
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(body);
        }));
        Url = address + path;
    }

    public string Url { get; }

    public int Requests => Volatile.Read(ref _requests);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
