using System.Runtime.CompilerServices;
using Alpaca.Trainer.Runtime;
using Xunit;

// One TorchSharp process shares 2 cores with other engineers' builds: tests run one at a time, each
// on at most 2 torch threads, with a passive OpenMP wait policy (set before libtorch loads).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Alpaca.Trainer.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(threads: 2);
}
