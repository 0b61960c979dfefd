using Alpaca.Dedup.Api;
using Alpaca.Generator.Api;
using Alpaca.Inference.Api;
using Alpaca.ServiceDefaults;
using Alpaca.Trainer.Api;

namespace Alpaca.Platform.Tests.Platform;

/// <summary>The whole platform, as <c>alpaca up</c> composes it (AlpacaUpProcessTests checks the command's own list).</summary>
internal static class EveryService
{
    public static readonly IReadOnlyList<ServiceModule> Modules =
        [GeneratorModule.Instance, DedupModule.Instance, TrainerModule.Instance, InferenceModule.Instance];
}
