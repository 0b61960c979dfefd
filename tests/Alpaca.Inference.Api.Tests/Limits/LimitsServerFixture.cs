namespace Alpaca.Inference.Api.Tests.Limits;

/// <summary>
/// The tiny model behind small, explicit limits, so "just under" each limit is a cheap request and "far above"
/// one (a multi-megabyte prompt) still fits the transport limits and reaches the service's own checks.
/// </summary>
public sealed class LimitsServerFixture : IAsyncLifetime
{
    // The tiny model's context is 512 tokens: a prompt at the cap plus MaxTokens still fits.
    public const int PromptChars = 400;
    public const int MaxTokens = 40;
    public const int Stops = 3;
    public const int StopTokenIds = 3;
    public const int ModelNameChars = 16;
    public const int RequestIdChars = 32;
    public const int LoadContextLength = 1024;
    public const int LoadThreads = 2;

    /// <summary>Both the HTTP body limit and the gRPC message limit: room for a prompt far above <see cref="PromptChars"/>.</summary>
    public const int TransportBytes = 6 * 1024 * 1024;

    private InferenceServer? _server;

    public InferenceServer Server => _server!;

    public async Task InitializeAsync() => _server = await InferenceServer.StartAsync(TestModels.Tiny(), maxSequences: 2, maxQueue: 8, extra: new Dictionary<string, string?>
    {
        ["Alpaca:Limits:MaxRequestBodySize"] = $"{TransportBytes}",
        ["Alpaca:Limits:GrpcMaxReceiveMessageSize"] = $"{TransportBytes}",
        ["Alpaca:Inference:Limits:MaxPromptChars"] = $"{PromptChars}",
        ["Alpaca:Inference:Limits:MaxTokenizeChars"] = $"{PromptChars}",
        ["Alpaca:Inference:Limits:MaxTokens"] = $"{MaxTokens}",
        ["Alpaca:Inference:Limits:MaxStops"] = $"{Stops}",
        ["Alpaca:Inference:Limits:MaxStopTokenIds"] = $"{StopTokenIds}",
        ["Alpaca:Inference:Limits:MaxModelNameChars"] = $"{ModelNameChars}",
        ["Alpaca:Inference:Limits:MaxRequestIdChars"] = $"{RequestIdChars}",
        ["Alpaca:Inference:Limits:MaxLoadContextLength"] = $"{LoadContextLength}",
        ["Alpaca:Inference:Limits:MaxLoadThreads"] = $"{LoadThreads}",
    });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
