using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;

namespace Alpaca.Inference.Api;

/// <summary>The inference service as a composable host.</summary>
public static class InferenceModule
{
    public const string Name = "inference";

    public static readonly string[] GrpcServices = [InferenceService.Descriptor.FullName];

    public static readonly ServiceModule Instance = new(Name, GrpcServices, b => b.AddInferenceServices(), a => a.MapInferenceServices());
}
