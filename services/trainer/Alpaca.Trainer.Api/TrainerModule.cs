using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;

namespace Alpaca.Trainer.Api;

/// <summary>The trainer service as a composable host.</summary>
public static class TrainerModule
{
    public const string Name = "trainer";

    public static readonly string[] GrpcServices = [TrainerService.Descriptor.FullName];

    public static readonly ServiceModule Instance = new(Name, GrpcServices, b => b.AddTrainerServices(), a => a.MapTrainerServices());
}
