using Alpaca.Contracts.V1;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Platform;

/// <summary><c>alpaca status</c> shows inference as not serving until a model is loaded through the gateway.</summary>
public sealed class InferenceReadinessTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private EmbeddedPlatform? _platform;

    public async Task InitializeAsync() =>
        _platform = await EmbeddedPlatform.StartAsync(EveryService.Modules, new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.Path,
            ExtraSettings = new Dictionary<string, string?> { ["Alpaca:Paths:ModelRoots"] = _dir.Path },
        });

    [Fact]
    public async Task Inference_turns_serving_once_a_model_is_loaded_through_the_gateway()
    {
        var rows = await PlatformHealth.CheckAllAsync(_platform!.GatewayGrpc, TimeSpan.FromSeconds(5), default);
        Assert.Equal("NOT_SERVING", rows.Single(r => r.Service == "inference").Status);
        Assert.All(rows.Where(r => r.Service != "inference"), r => Assert.Equal("SERVING", r.Status));

        using var channel = _platform.GatewayChannel();
        var inference = new InferenceService.InferenceServiceClient(channel);
        var loaded = await inference.LoadModelAsync(new LoadModelRequest { Path = TinyGguf.Write(_dir), Name = "tiny" });
        Assert.Equal(ModelState.Ready, loaded.Info.State);

        rows = await PlatformHealth.CheckAllAsync(_platform.GatewayGrpc, TimeSpan.FromSeconds(5), default);
        Assert.All(rows, r => Assert.Equal("SERVING", r.Status));
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _dir.Dispose();
    }
}
