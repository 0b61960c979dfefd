using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>Loading one tiny file on both backends, and running batches through either the same way.</summary>
internal static class BothBackends
{
    public static Engine Cpu(string path, int slots = 4) => Engine.Load(path, new ModelOptions { Threads = 2, MaxSequences = slots });

    public static Engine Torch(string path, int slots = 4, string dtype = "f32") =>
        TorchModelLoader.Load(path, new TorchBackendOptions { Device = TestSetup.Device, DType = dtype, MaxSequences = slots });

    /// <summary>Forwards <paramref name="batch"/> and copies out every logit row.</summary>
    public static float[][] Run(IEngineBackend model, Batch batch)
    {
        model.Forward(batch);
        return Enumerable.Range(0, model.LogitRows).Select(r => model.Logits(r).ToArray()).ToArray();
    }

    /// <summary>Largest |a − b| over all rows, and the largest |a| (the logit scale).</summary>
    public static (double Worst, double Scale, double RelativeRms) Compare(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 0, squaredError = 0, squared = 0;
        for (var r = 0; r < expected.Length; r++)
        {
            Assert.Equal(expected[r].Length, actual[r].Length);
            for (var v = 0; v < expected[r].Length; v++)
            {
                var d = (double)actual[r][v] - expected[r][v];
                worst = Math.Max(worst, Math.Abs(d));
                scale = Math.Max(scale, Math.Abs(expected[r][v]));
                squaredError += d * d;
                squared += (double)expected[r][v] * expected[r][v];
            }
        }

        return (worst, scale, Math.Sqrt(squaredError / squared));
    }

    public static int[] Prompt(int length, int seed = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(3, 384)).ToArray();
    }
}
