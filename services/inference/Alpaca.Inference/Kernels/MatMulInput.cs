namespace Alpaca.Inference.Kernels;

/// <summary>
/// The right-hand side of a matrix product: <see cref="Tokens"/> activation rows, as floats (for F32/F16/BF16
/// weights and the reference) and, for Q4_0/Q8_0 weights, also quantized (rows
/// <see cref="QuantRow0"/>.. of <see cref="Quantized"/>).
/// </summary>
public readonly unsafe struct MatMulInput
{
    public MatMulInput(float* x, int stride, int tokens, Q8Activations? quantized = null, int quantRow0 = 0)
    {
        X = x;
        Stride = stride;
        Tokens = tokens;
        Quantized = quantized;
        QuantRow0 = quantRow0;
    }

    /// <summary>Token t's activations start at <c>X + t·Stride</c>.</summary>
    public float* X { get; }

    public int Stride { get; }

    public int Tokens { get; }

    public Q8Activations? Quantized { get; }

    public int QuantRow0 { get; }

    public float* Row(int t) => X + (long)t * Stride;
}
