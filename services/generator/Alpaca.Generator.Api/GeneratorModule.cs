using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.ServiceDefaults;

namespace Alpaca.Generator.Api;

/// <summary>The generator service as a composable host.</summary>
public static class GeneratorModule
{
    public const string Name = "generator";

    public static readonly string[] GrpcServices = [GeneratorService.Descriptor.FullName];

    public static readonly ServiceModule Instance = new(Name, GrpcServices, b => b.AddGeneratorServices(), a => a.MapGeneratorServices())
    {
        // The generator creates each run's dedup namespace through the dedup service's gRPC API.
        EmbeddedDefaults = peers => peers.TryGetValue("dedup", out var dedup)
            ? new Dictionary<string, string?> { [$"{GeneratorOptions.Section}:DedupAddress"] = dedup.ToString() }
            : new Dictionary<string, string?>(),
    };
}
