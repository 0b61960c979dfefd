using System.Runtime.CompilerServices;
namespace Alpaca.Inference.Kernels;

/// <summary>
/// y = W·x for a range of W's rows and every token of the input: the single entry point the model and
/// the thread jobs call; it picks the kernel for the path and the weight type.
/// </summary>
public static unsafe class MatMul
{
    /// <summary>
    /// Rows [rowStart, rowEnd) of y[t·yStride + row] for every input token. For packed (Q4_0/Q8_0, and Q4_K/Q5_K/Q6_K
    /// on x86 and ARM64) weights rowStart must be a multiple of <see cref="PackedQuantLayout.RowsPerGroup"/>, and so must
    /// rowEnd unless it is the last row. <paramref name="scratch"/>: per-thread floats,
    /// <see cref="ScratchFloats"/>(Columns) of them (only float weights use it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(KernelPath path, WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
    {
        if (path == KernelPath.Reference || (w.IsQuantized && !w.IsPacked))
        {
            ReferenceKernels.MatMul(w, input, rowStart, rowEnd, y, yStride);
            return;
        }

        if (w.HasKQuantKernel)
        {
            if (w.IsKPacked && rowStart % KQuantPackedLayout.RowsPerGroup != 0)
            {
                throw new ArgumentException($"{w.Name}: row range must start at a multiple of {KQuantPackedLayout.RowsPerGroup}, got {rowStart}.");
            }

            switch (path)
            {
                case KernelPath.Avx512Vnni when w.IsKPacked:
                    KQuantPackedKernels.Run<VnniDot>(w, input, rowStart, rowEnd, y, yStride);
                    break;
                case KernelPath.Avx2 when w.IsKPacked:
                    KQuantPackedKernels.Run<Avx2Dot>(w, input, rowStart, rowEnd, y, yStride);
                    break;
                case KernelPath.Neon when w.IsKPacked:
                    KQuantNeonKernels.Run(w, input, rowStart, rowEnd, y, yStride);
                    break;
                case KernelPath.Portable or KernelPath.Neon:
                    // The Vector128 kernel over the GGUF bytes (Portable, and Neon on a matrix loaded without its packed copy).
                    KQuantKernels.RunPortable(w, input, rowStart, rowEnd, y, yStride);
                    break;
                default:
                    // An x86 path on a matrix loaded without its packed copy: as for unpacked Q4_0/Q8_0.
                    ReferenceKernels.MatMul(w, input, rowStart, rowEnd, y, yStride);
                    break;
            }

            return;
        }

        if (w.IsDecodedPerRow)
        {
            PortableKernels.Run(w, input, rowStart, rowEnd, y, yStride, scratch);
            return;
        }

        if (w.IsQuantized && rowStart % PackedQuantLayout.RowsPerGroup != 0)
        {
            throw new ArgumentException($"{w.Name}: row range must start at a multiple of {PackedQuantLayout.RowsPerGroup}, got {rowStart}.");
        }

        switch (path)
        {
            case KernelPath.Avx512Vnni when w.IsQuantized:
                QuantKernels.Run<VnniDot>(w, input, rowStart, rowEnd, y, yStride);
                break;
            case KernelPath.Avx2 when w.IsQuantized && input.Tokens < QuantDecodeKernels.MaxTokens:
                // Batched decode (a token per running sequence): the few-token kernels.
                QuantDecodeKernels.Run(w, input, rowStart, rowEnd, y, yStride);
                break;
            case KernelPath.Avx2 when w.IsQuantized:
                QuantKernels.Run<Avx2Dot>(w, input, rowStart, rowEnd, y, yStride);
                break;
            case KernelPath.Neon when w.IsQuantized:
                NeonKernels.Run(w, input, rowStart, rowEnd, y, yStride);
                break;
            case KernelPath.Avx512Vnni:
                FloatKernels.Run(avx512: true, w, input, rowStart, rowEnd, y, yStride, scratch);
                break;
            case KernelPath.Avx2:
                FloatKernels.Run(avx512: false, w, input, rowStart, rowEnd, y, yStride, scratch);
                break;
            default:
                PortableKernels.Run(w, input, rowStart, rowEnd, y, yStride, scratch);
                break;
        }
    }

    /// <summary>Per-thread scratch floats <see cref="Rows"/> may use for a matrix with this many columns.</summary>
    public static int ScratchFloats(int columns) => FloatKernels.ScratchFloats(columns);
}
