using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Api;
using Alpaca.Inference.Api.Models;
using Alpaca.TestSupport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>The real inference host on free loopback ports, configured with the torch backend as its default.</summary>
public sealed class TorchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDir _state;
    private readonly GrpcChannel _channel;

    private TorchServer(WebApplication app, TempDir state, int grpcPort, int httpPort)
    {
        _app = app;
        _state = state;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Client = new InferenceService.InferenceServiceClient(_channel);
        HttpClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
    }

    public InferenceService.InferenceServiceClient Client { get; }

    public HttpClient HttpClient { get; }

    public ModelRegistry Registry => _app.Services.GetRequiredService<ModelRegistry>();

    public static async Task<TorchServer> StartAsync(string model)
    {
        for (var attempt = 1; ; attempt++)
        {
            int grpc = FreePort.Next(), http = FreePort.Next();
            var state = new TempDir("alpaca-torch-state");
            var app = InferenceModule.Instance.Build(new Dictionary<string, string?>
            {
                ["Alpaca:Service:GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:ShutdownTimeout"] = "00:00:05",
                ["Alpaca:Auth:Enabled"] = "false",
                ["Alpaca:State:Store"] = "local",
                ["Alpaca:State:Path"] = state.Path,
                ["Alpaca:Messaging:Transport"] = "inprocess",
                ["Alpaca:Inference:Model"] = model,
                ["Alpaca:Inference:ModelName"] = "tiny",
                ["Alpaca:Inference:Threads"] = "2",
                ["Alpaca:Inference:MaxSequences"] = "4",
                ["Alpaca:Inference:Backend"] = "torch",
                ["Alpaca:Inference:Device"] = TestSetup.Device,
                ["Alpaca:Inference:DType"] = "f32",
                ["Alpaca:Paths:ModelRoots"] = TinyGguf.Folder,
            });
            try
            {
                await app.StartAsync();
            }
            catch (IOException) when (attempt < 5)
            {
                await app.DisposeAsync();
                state.Dispose();
                continue;
            }

            var server = new TorchServer(app, state, grpc, http);
            await server.Registry.WhenReadyAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return server;
        }
    }

    public async ValueTask DisposeAsync()
    {
        HttpClient.Dispose();
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _state.Dispose();
    }
}
