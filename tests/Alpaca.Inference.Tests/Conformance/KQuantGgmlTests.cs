using System.Runtime.InteropServices;
using Alpaca.Inference.Kernels;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Conformance;

/// <summary>
/// The K-quant reference and kernels against ggml itself: golden files written by libggml-cpu
/// (tests/Alpaca.Llm.Tests/Golden/ggml-quant/kdot.c): ggml's Q8_K activations of input.f32 (4 rows of 1024)
/// and <c>ggml_vec_dot_qN_K_q8_K_generic</c> of the ggml-quantized Q4_K/Q5_K/Q6_K rows with them.
/// </summary>
public unsafe class KQuantGgmlTests
{
    private static string Golden(string name) => Path.Combine(RepoPaths.Root, "tests", "Alpaca.Llm.Tests", "Golden", "ggml-quant", name);

    private static float[] Input() => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Golden("input.f32"))).ToArray();

    [Fact]
    public void Q8_K_activations_match_ggml_byte_for_byte()
    {
        var input = Input();
        var golden = File.ReadAllBytes(Golden("out.q8_k"));
        Assert.Equal(16 * 292, golden.Length);
        var q = new sbyte[256];
        var sums = new int[16];
        fixed (float* px = input)
        fixed (sbyte* pq = q)
        fixed (int* ps = sums)
        {
            for (var sb = 0; sb < 16; sb++)
            {
                ActivationQuantizer.QuantizeSuperBlock(px + (sb * 256), pq, out var d, ps);
                var block = golden.AsSpan(sb * 292, 292);
                Assert.Equal(BitConverter.ToSingle(block), d);
                Assert.Equal(MemoryMarshal.Cast<byte, sbyte>(block.Slice(4, 256)).ToArray(), q);
                Assert.Equal(MemoryMarshal.Cast<byte, short>(block.Slice(260, 32)).ToArray().Select(v => (int)v), sums);
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, "out.q4_k")]
    [InlineData(GgmlType.Q5_K, "out.q5_k")]
    [InlineData(GgmlType.Q6_K, "out.q6_k")]
    public void Reference_and_fast_kernels_match_ggmls_dot_products(GgmlType type, string file)
    {
        const int rows = 4, columns = 1024;
        var bytes = File.ReadAllBytes(Golden(file));
        var golden = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Golden(file + ".dot"))).ToArray();
        var input = Input();
        using var buffer = new NativeBuffer(bytes.Length);
        bytes.CopyTo(buffer.AsSpan<byte>(0, bytes.Length));
        using var w = new WeightMatrix(file, type, rows, columns, buffer.Pointer, buffer);
        var paths = CpuKernels.Supported;
        var results = new float[paths.Count][];
        using var q = new Q8Activations(rows, columns, superBlocks: true);
        fixed (float* px = input)
        {
            for (var p = 0; p < paths.Count; p++)
            {
                results[p] = new float[rows * rows];
                for (var t = 0; t < rows; t++)
                {
                    q.Quantize(paths[p], t, px + (t * columns));
                }

                fixed (float* py = results[p])
                {
                    MatMul.Rows(paths[p], w, new MatMulInput(px, columns, rows, q), 0, rows, py, rows, null);
                }
            }
        }

        // ggml sums in float in its own order: compare relative to Σ|w·x| of the decoded operands.
        var wf = Quantizer.Dequantize(type, bytes, rows * columns);
        for (var r = 0; r < rows; r++)
        {
            for (var t = 0; t < rows; t++)
            {
                var magnitude = 0.0;
                for (var i = 0; i < columns; i++)
                {
                    magnitude += Math.Abs((double)wf[(r * columns) + i] * input[(t * columns) + i]);
                }

                var expected = golden[(r * rows) + t];
                for (var p = 0; p < paths.Count; p++)
                {
                    var actual = results[p][(t * rows) + r];
                    Assert.True(Math.Abs(expected - actual) <= 1e-5 * magnitude, $"{type} {paths[p]} row {r} token {t}: ggml {expected}, ours {actual}, magnitude {magnitude}");
                }
            }
        }
    }
}
