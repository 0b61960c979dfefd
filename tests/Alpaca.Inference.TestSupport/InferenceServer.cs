using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Api;
using Alpaca.Inference.Api.Models;
using Alpaca.TestSupport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Inference.TestSupport;

/// <summary>
/// The real inference host (the same <see cref="InferenceModule"/> that <c>alpaca up</c> runs) on free
/// loopback ports: h2c for gRPC, HTTP/1.1 for the OpenAI API, health and metrics.
/// </summary>
public sealed class InferenceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDir _state;
    private readonly GrpcChannel _channel;

    private InferenceServer(WebApplication app, TempDir state, int grpcPort, int httpPort)
    {
        _app = app;
        _state = state;
        Grpc = new Uri($"http://127.0.0.1:{grpcPort}");
        Http = new Uri($"http://127.0.0.1:{httpPort}");
        _channel = GrpcChannel.ForAddress(Grpc);
        Client = new InferenceService.InferenceServiceClient(_channel);
        HttpClient = new HttpClient { BaseAddress = Http };
    }

    public Uri Grpc { get; }

    public Uri Http { get; }

    public GrpcChannel Channel => _channel;

    public InferenceService.InferenceServiceClient Client { get; }

    public HttpClient HttpClient { get; }

    public IServiceProvider Services => _app.Services;

    public ModelRegistry Registry => _app.Services.GetRequiredService<ModelRegistry>();

    /// <summary>Starts the host; with a model it returns once that model is ready.</summary>
    public static async Task<InferenceServer> StartAsync(string? model = null, int maxSequences = 4, int maxQueue = 16, string? modelName = "tiny", int prefillChunk = 64, IReadOnlyDictionary<string, string?>? extra = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            int grpc = FreePort.Next(), http = FreePort.Next();
            var state = new TempDir("alpaca-inference-state");
            var settings = new Dictionary<string, string?>
            {
                ["Alpaca:Service:GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture),
                // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
                ["Alpaca:Auth:Enabled"] = "false",
                ["Alpaca:Service:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:ShutdownTimeout"] = "00:00:05",
                ["Alpaca:State:Store"] = "local",
                ["Alpaca:State:Path"] = state.Path,
                ["Alpaca:Messaging:Transport"] = "inprocess",
                ["Alpaca:Inference:Model"] = model,
                ["Alpaca:Inference:ModelName"] = modelName,
                ["Alpaca:Inference:Threads"] = "2",
                ["Alpaca:Inference:MaxSequences"] = maxSequences.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Inference:MaxQueue"] = maxQueue.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Inference:PrefillChunkTokens"] = prefillChunk.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Paths:ModelRoots"] = TestModels.Folder,
            };
            foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }

            var app = InferenceModule.Instance.Build(settings);
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

            var server = new InferenceServer(app, state, grpc, http);
            if (model is not null)
            {
                await server.Registry.WhenReadyAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }

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
