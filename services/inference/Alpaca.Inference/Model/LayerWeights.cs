using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model;

/// <summary>One transformer block's weights, named after the GGUF tensors (blk.N.*).</summary>
public sealed class LayerWeights : IDisposable
{
    public required float[] AttnNorm { get; init; }

    public required WeightMatrix AttnQ { get; init; }

    public required WeightMatrix AttnK { get; init; }

    public required WeightMatrix AttnV { get; init; }

    public required WeightMatrix AttnOutput { get; init; }

    public required float[] FfnNorm { get; init; }

    public required WeightMatrix FfnGate { get; init; }

    public required WeightMatrix FfnUp { get; init; }

    public required WeightMatrix FfnDown { get; init; }

    public IEnumerable<WeightMatrix> Matrices => [AttnQ, AttnK, AttnV, AttnOutput, FfnGate, FfnUp, FfnDown];

    public void Dispose()
    {
        foreach (var m in Matrices)
        {
            m.Dispose();
        }
    }
}
