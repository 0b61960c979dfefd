using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model.Steps;

/// <summary>Where the fused gate/up step of <see cref="MatMulStep"/> leaves h = silu(gate·x)·(up·x), and in what form.</summary>
internal readonly unsafe struct SwiGluOutput
{
    /// <summary>gate·x, then h in place, [tokens][Width].</summary>
    public float* Hidden { get; init; }

    /// <summary>up·x, [tokens][Width].</summary>
    public float* Up { get; init; }

    public int Width { get; init; }

    /// <summary>h quantized for a Q4_0/Q8_0 down_proj; null = none.</summary>
    public Q8Activations? HiddenQ8 { get; init; }

    /// <summary>h rounded to fp16 for an F16 down_proj.</summary>
    public bool RoundToHalf { get; init; }
}
