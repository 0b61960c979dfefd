using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Tests.Kernels;

public unsafe class VectorOpsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(2051)]
    public void Element_wise_ops_match_their_scalar_definitions(int n)
    {
        var x = TestWeights.Gaussian(n, n);
        var gain = TestWeights.Gaussian(n, n + 1);
        var up = TestWeights.Gaussian(n, n + 2);
        var expected = new float[n];
        var actual = new float[n];
        fixed (float* px = x, pg = gain, pu = up, pa = actual)
        {
            ReferenceOps.RmsNorm(x, gain, expected, 1e-5f);
            VectorOps.RmsNorm(px, pg, pa, n, 1e-5f);
            AssertNear(expected, actual, 2e-6f, "rmsnorm");

            for (var i = 0; i < n; i++)
            {
                expected[i] = ReferenceOps.Silu(x[i]) * up[i];
            }

            VectorOps.SiluMul(px, pu, pa, n);
            AssertNear(expected, actual, 2e-6f, "silu·up");

            x.CopyTo(expected, 0);
            ReferenceOps.Softmax(expected);
            x.CopyTo(actual, 0);
            VectorOps.Softmax(pa, n);
            AssertNear(expected, actual, 1e-6f, "softmax");
            Assert.Equal(1.0, actual.Sum(v => (double)v), 4);
        }
    }

    [Fact]
    public void Rope_rotates_adjacent_pairs_by_the_position_angle()
    {
        const int headDim = 8;
        var v = Enumerable.Range(0, 2 * headDim).Select(i => (float)(i + 1)).ToArray();
        var expected = (float[])v.Clone();
        ReferenceOps.Rope(expected, headDim, headDim, 37, 10000f);
        var cos = new float[headDim / 2];
        var sin = new float[headDim / 2];
        ReferenceOps.RopeCosSin(37, headDim, 10000f, cos, sin);
        fixed (float* pv = v, pc = cos, ps = sin)
        {
            VectorOps.Rope(pv, 2, headDim, headDim, pc, ps);
        }

        AssertNear(expected, v, 1e-6f, "rope");
        // Pair i turns by 37·10000^(−2i/8); each pair keeps its length.
        Assert.Equal(MathF.Cos(37f), cos[0], 6);
        Assert.Equal(Math.Cos(37 * Math.Pow(10000, -0.25)), cos[1], 5);
        Assert.Equal(MathF.Sqrt(3 * 3 + 4 * 4), MathF.Sqrt(v[2] * v[2] + v[3] * v[3]), 4);
    }

    [Fact]
    public void Fp16_rounding_matches_the_framework_conversion_everywhere()
    {
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, -70000f, 6.1035156e-05f, 6.0e-08f, 2.9802322e-08f, 3e-8f, 1e-9f, float.PositiveInfinity, 1.00048828125f, 1.000244140625f };
        var rng = new Random(5);
        for (var i = 0; i < 20000; i++)
        {
            values.Add((float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 17)));
        }

        var data = values.ToArray();
        fixed (float* p = data)
        {
            Fp16.RoundInPlace(p, data.Length);
        }

        for (var i = 0; i < data.Length; i++)
        {
            Assert.True(BitConverter.SingleToUInt32Bits((float)(Half)values[i]) == BitConverter.SingleToUInt32Bits(data[i]), $"{values[i]:R}: expected {(float)(Half)values[i]:R}, got {data[i]:R}");
        }
    }

    private static void AssertNear(float[] expected, float[] actual, float relative, string what)
    {
        var scale = expected.Max(MathF.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= relative * scale + 1e-30f, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
