using Alpaca.Trainer.Bench;
using Alpaca.Trainer.Model;
using Xunit;

namespace Alpaca.Trainer.Tests.Bench;

public sealed class BenchShapeTests
{
    [Theory]
    // torchsharp.md §2.2: stories15M 15.19M params, 96.4 MFLOP/token; stories110M 109.53M, 685.4 MFLOP/token (T = 256).
    [InlineData("15M", 15.19, 96.4)]
    [InlineData("110M", 109.53, 685.4)]
    public void Shapes_and_flop_counts_match_the_reference_measurements(string shape, double millionParameters, double mflopPerToken)
    {
        var config = TrainBenchmark.Shapes[shape];
        using var model = new LlamaForCausalLM(config);
        Assert.Equal(millionParameters, ModelWeights.Count(model).Total / 1e6, 2);
        Assert.Equal(mflopPerToken, TrainBenchmark.FlopPerToken(config, 256) / 1e6, 1);
    }
}
