using Alpaca.Inference.Kernels;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Kernels;

/// <summary>Every fast matrix-product path against the scalar reference, for every weight type and many shapes.</summary>
public unsafe class MatMulTests
{
    public static TheoryData<KernelPath, GgmlType> PathsAndTypes()
    {
        var data = new TheoryData<KernelPath, GgmlType>();
        foreach (var path in CpuKernels.Supported.Where(p => p != KernelPath.Reference))
        {
            foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
            {
                data.Add(path, type);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndTypes))]
    public void Fast_kernels_match_the_reference(KernelPath path, GgmlType type)
    {
        var quantized = type is GgmlType.Q8_0 or GgmlType.Q4_0;
        var kQuant = GgmlTypeInfo.IsKQuant(type);
        // Shapes: partial last row group (13, 45 rows), one block, odd block counts; float types also get
        // column counts that are not a multiple of the vector width. K-quants: 1, 2 and 4 super-blocks,
        // token counts across the kernels' 16-token blocks (their scalar reference is slow under qemu).
        var shapes = kQuant
            ? new[] { (8, 256), (13, 512), (40, 1024) }
            : quantized
            ? new[] { (8, 32), (13, 64), (45, 96), (64, 288), (24, 2048) }
            : new[] { (8, 32), (13, 37), (45, 96), (64, 288), (7, 5), (24, 2048) };
        foreach (var (rows, columns) in shapes)
        {
            // K-quants on x86: 4-token slices, leftovers after them (6, 17) and alone (1, 3). Q4_0/Q8_0: every
            // batched-decode count 1–16 (the few-token kernels' 4-, 2- and 1-token pieces in every mix), 63
            // (their largest), and prompt sizes on the prompt kernels (70, 300).
            int[] tokenCounts = kQuant ? [1, 3, 4, 6, 17]
                : quantized ? [.. Enumerable.Range(1, 16), 63, 70, 300]
                : [1, 2, 3, 4, 5, 11, 70, 300];
            foreach (var tokens in tokenCounts)
            {
                Check(path, type, rows, columns, tokens, seed: rows * 1000 + columns + tokens);
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTypes))]
    // Activations in the tens of thousands: the fp16 decode path, which pre-scales activations by 2¹¹²,
    // must fall back rather than overflow (|x| ≥ 2¹⁵), and every other path must stay exact.
    public void Large_activations_match_the_reference(KernelPath path, GgmlType type)
    {
        foreach (var tokens in new[] { 1, 2, 5 })
        {
            Check(path, type, 24, 2048, tokens, seed: 99 + tokens, activationScale: 20000f);
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTypes))]
    public void A_row_range_computes_only_those_rows(KernelPath path, GgmlType type)
    {
        var k = GgmlTypeInfo.IsKQuant(type) ? 256 : 64;
        using var w = TestWeights.Matrix(type, 48, k, seed: 7);
        var x = TestWeights.Gaussian(k * 3, 8);
        var y = Enumerable.Repeat(-999f, 48 * 3).ToArray();
        using var q = new Q8Activations(3, k, w.HasKQuantKernel);
        var scratch = new float[MatMul.ScratchFloats(k)];
        fixed (float* px = x, py = y, ps = scratch)
        {
            for (var t = 0; t < 3; t++)
            {
                q.Quantize(path, t, px + t * k);
            }

            MatMul.Rows(path, w, new MatMulInput(px, k, 3, q), 16, 40, py, 48, ps);
        }

        for (var t = 0; t < 3; t++)
        {
            for (var r = 0; r < 48; r++)
            {
                var inside = r is >= 16 and < 40;
                Assert.True(inside == (y[t * 48 + r] != -999f), $"token {t} row {r}: written={y[t * 48 + r] != -999f}, expected {inside}");
            }
        }
    }

    public static TheoryData<KernelPath, GgmlType> KQuantPromptPaths()
    {
        var data = new TheoryData<KernelPath, GgmlType>();
        foreach (var path in CpuKernels.Supported.Where(p => p != KernelPath.Reference))
        {
            foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
            {
                data.Add(path, type);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KQuantPromptPaths))]
    // The repacked x86 K-quant kernels cut tokens into blocks of 128 and 4-token slices (Portable: blocks
    // of 16, as Neon): a prompt across a block boundary with 2 tokens left over, on an odd row count (the last
    // 8-row group has 5 rows).
    public void K_quant_prompts_across_token_blocks_match_the_reference(KernelPath path, GgmlType type)
    {
        Check(path, type, 13, 512, 134, seed: 5);
    }

    [Theory]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q2_K)]
    public void Q2_K_and_Q3_K_are_decoded_per_row_and_match_the_reference(GgmlType type)
    {
        const int rows = 40, columns = 512;
        using var w = TestWeights.KQuantMatrix(type, rows, columns, seed: 11);
        Assert.True(w.IsDecodedPerRow);
        var x = TestWeights.Gaussian(columns * 3, 12);
        var expected = new float[rows * 3];
        var actual = new float[rows * 3];
        var scratch = new float[MatMul.ScratchFloats(columns)];
        fixed (float* px = x, pe = expected, pa = actual, ps = scratch)
        {
            var input = new MatMulInput(px, columns, 3);
            ReferenceKernels.MatMul(w, input, 0, rows, pe, rows);
            MatMul.Rows(CpuKernels.Best, w, input, 0, rows, pa, rows, ps);
        }

        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{type} output {i}: {expected[i]} vs {actual[i]}");
        }
    }

    private static void Check(KernelPath path, GgmlType type, int rows, int columns, int tokens, int seed, float activationScale = 1f)
    {
        using var w = TestWeights.Matrix(type, rows, columns, seed);
        // On x86 and Neon a K-quant matrix must have its repacked copy, or these tests would check the in-place kernel twice.
        Assert.True(!w.HasKQuantKernel || path is not (KernelPath.Avx2 or KernelPath.Avx512Vnni or KernelPath.Neon) || w.IsKPacked, $"{type} has no repacked copy");
        var x = TestWeights.Gaussian(columns * tokens, seed + 1).Select(v => v * activationScale).ToArray();
        var expected = new float[rows * tokens];
        var actual = new float[rows * tokens];
        var quantized = w.ReadsQ8;
        using var q = quantized ? new Q8Activations(tokens, columns, w.HasKQuantKernel) : null;
        var scratch = new float[MatMul.ScratchFloats(columns)];
        fixed (float* px = x, pe = expected, pa = actual, ps = scratch)
        {
            if (q is not null)
            {
                for (var t = 0; t < tokens; t++)
                {
                    q.Quantize(path, t, px + t * columns);
                }
            }

            var input = new MatMulInput(px, columns, tokens, q);
            ReferenceKernels.MatMul(w, input, 0, rows, pe, rows);
            MatMul.Rows(path, w, input, 0, rows, pa, rows, ps);
        }

        // Bound: float rounding of a sum of `columns` products, relative to Σ|w·x| (computed from the
        // reference's own magnitude scale): fast paths accumulate in float in a different order.
        var wf = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            Quantizer.Dequantize(type, w.Row(r), wf);
            for (var t = 0; t < tokens; t++)
            {
                var magnitude = 0.0;
                for (var i = 0; i < columns; i++)
                {
                    magnitude += Math.Abs(wf[i] * x[t * columns + i]);
                }

                var tolerance = 1e-5 * magnitude + 1e-6 + (quantized ? 2e-5 * magnitude : 0);
                var e = expected[t * rows + r];
                var a = actual[t * rows + r];
                Assert.True(Math.Abs(e - a) <= tolerance,
                    $"{path} {type} {rows}x{columns} tokens={tokens}: token {t} row {r}: reference {e}, fast {a}, |diff| {Math.Abs(e - a)} > {tolerance}");
            }
        }
    }
}
