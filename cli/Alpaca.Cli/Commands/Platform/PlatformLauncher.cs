using Alpaca.Dedup.Api;
using Alpaca.Generator.Api;
using Alpaca.Inference.Api;
using Alpaca.Platform;
using Alpaca.ServiceDefaults;
using Alpaca.Trainer.Api;

namespace Alpaca.Cli.Commands.Platform;

/// <summary>What the commands that run the embedded platform (<c>alpaca up</c>, <c>alpaca recipe</c>) share: start it, and serve until Ctrl+C.</summary>
internal static class PlatformLauncher
{
    /// <summary>Every service of the platform, in start order.</summary>
    public static readonly IReadOnlyList<ServiceModule> EveryService =
        [GeneratorModule.Instance, DedupModule.Instance, TrainerModule.Instance, InferenceModule.Instance];

    /// <summary>Starts every service and the gateway; null (after saying so on stderr) when a port cannot be bound.</summary>
    public static async Task<EmbeddedPlatform?> TryStartAsync(string command, EmbeddedPlatformOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await EmbeddedPlatform.StartAsync(EveryService, options, cancellationToken);
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"alpaca {command}: could not bind a port: {ex.Message} (choose others with --port/--http-port, or 0 for free ones)");
            return null;
        }
    }

    /// <summary>Waits for Ctrl+C (the token), then says the platform is draining.</summary>
    public static async Task ServeUntilStoppedAsync(string command, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"alpaca {command}: stopping (draining in-flight calls)…");
        }
    }
}
