namespace Alpaca.Inference.Api.Tests;

/// <summary>One server with the tiny model for a test class (starting a host costs about a second).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private InferenceServer? _server;

    public InferenceServer Server => _server!;

    public async Task InitializeAsync() => _server = await InferenceServer.StartAsync(TestModels.Tiny(), maxSequences: 4, maxQueue: 32);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
