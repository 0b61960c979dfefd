using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// One per-token glue operation between matrix products, over <see cref="Tokens"/> rows of
/// <see cref="Width"/> floats: <c>hidden += residual</c> (when given), <c>output = RMSNorm(hidden)·gain</c>
/// (when a gain is given; without one the output is the hidden row itself), then the output rounded to fp16
/// and/or quantized for the next matrix product.
/// </summary>
internal readonly unsafe struct TokenOp
{
    /// <summary>Rows read, and updated in place when <see cref="Residual"/> is set.</summary>
    public float* Hidden { get; init; }

    /// <summary>Added into <see cref="Hidden"/> first (a branch output joining the residual stream); null = none.</summary>
    public float* Residual { get; init; }

    /// <summary>RMSNorm gain; null = no norm, and <see cref="Output"/> must be <see cref="Hidden"/>.</summary>
    public float* NormGain { get; init; }

    public float* Output { get; init; }

    public int Width { get; init; }

    public int Tokens { get; init; }

    public float Eps { get; init; }

    /// <summary>Q8 rows the output is quantized into (for Q4_0/Q8_0 weights); null = none.</summary>
    public Q8Activations? Quantize { get; init; }

    /// <summary>Round the output to fp16 precision (ggml's activation type for F16 weights).</summary>
    public bool RoundToHalf { get; init; }
}
