using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;

namespace Alpaca.Dedup.Api;

/// <summary>The dedup service as a composable host.</summary>
public static class DedupModule
{
    public const string Name = "dedup";

    public static readonly string[] GrpcServices = [DedupService.Descriptor.FullName];

    public static readonly ServiceModule Instance = new(Name, GrpcServices, b => b.AddDedupServices(), a => a.MapDedupServices());
}
