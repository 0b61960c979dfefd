using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Tests.Kernels;

public unsafe class ActivationQuantizerTests
{
    public static TheoryData<KernelPath> Paths() => new(CpuKernels.Supported);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_path_quantizes_bit_identically_to_the_scalar_definition(KernelPath path)
    {
        const int n = 32 * 40;
        var x = TestWeights.Gaussian(n, 3);
        // Exact ties (x·127/amax = k + 0.5) must round to even on every path, and zero blocks give zero.
        for (var i = 0; i < 32; i++)
        {
            x[i] = i % 2 == 0 ? 127f : (i - 16) + 0.5f;
        }

        Array.Clear(x, 64, 32);
        using var q = new Q8Activations(1, n);
        fixed (float* px = x)
        {
            q.Quantize(path, 0, px);
        }

        var expectedQ = new sbyte[32];
        for (var b = 0; b < n / 32; b++)
        {
            ActivationQuantizer.QuantizeBlockReference(x.AsSpan(b * 32, 32), expectedQ, out var d, out var sum);
            Assert.Equal(d, q.Scales(0)[b]);
            Assert.Equal(-8 * sum, q.NegSum8(0)[b]);
            Assert.Equal(-128 * sum, q.NegSum128(0)[b]);
            for (var i = 0; i < 32; i++)
            {
                Assert.True(expectedQ[i] == q.Quants(0)[b * 32 + i], $"{path}: block {b} element {i}: expected {expectedQ[i]}, got {q.Quants(0)[b * 32 + i]}");
            }
        }
    }

    [Fact]
    public void The_scalar_definition_rounds_half_to_even_and_maps_amax_to_127()
    {
        var x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -3.5f;
        x[3] = -127f;
        var q = new sbyte[32];
        ActivationQuantizer.QuantizeBlockReference(x, q, out var d, out var sum);
        Assert.Equal(1f, d);
        Assert.Equal(new sbyte[] { 127, 2, -4, -127 }, q[..4]);
        Assert.Equal(127 + 2 - 4 - 127, sum);
    }
}
