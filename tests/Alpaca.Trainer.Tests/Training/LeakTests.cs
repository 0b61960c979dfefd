using Alpaca.Trainer.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Training;

public sealed class LeakTests
{
    [Theory]
    [InlineData(PrecisionMode.Float32, false)]
    [InlineData(PrecisionMode.BFloat16, true)]
    public void Live_tensor_count_is_flat_across_steps(PrecisionMode precision, bool packing)
    {
        // Native tensors are invisible to the GC: a handle leaked per step would grow memory without bound.
        var config = TinyModels.Config();
        using var model = TinyModels.Create(config);
        if (precision == PrecisionMode.BFloat16)
        {
            model.to(ScalarType.BFloat16);
        }

        var data = SyntheticData.Examples(40, config.VocabSize, 16, seed: 2);
        var hp = new TrainingHyperparameters { Epochs = 2, GlobalBatchSize = 8, MicroBatchSize = 3, MaxLength = 16, Precision = precision, Packing = packing };
        using var trainer = new SftTrainer(model, data, hp, 0, CPU, checkpointRoot: null);
        var live = new Dictionary<long, long>();
        trainer.Train(new InlineProgress<TrainingStepEvent>(e => live[e.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        Assert.Equal(10, live.Count);
        Assert.Equal(live[2], live[10]);
    }
}
