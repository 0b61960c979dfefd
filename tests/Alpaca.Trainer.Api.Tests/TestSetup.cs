using System.Runtime.CompilerServices;
using Alpaca.Trainer.Runtime;

// Training shares 2 cores with other engineers' builds: tests run one at a time, each job on 2 torch
// threads, with a passive OpenMP wait policy (set before libtorch loads, and inherited by child processes).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Alpaca.Trainer.Api.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
        TorchRuntime.Initialize(threads: 2);
    }
}
