using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.Tensors;

// Expected bit patterns are IEEE 754 facts worked out by hand, not produced by the code under test.
public class HalfConverterTests
{
    [Theory]
    [InlineData(1.0f, 0x3C00)]
    [InlineData(-2.0f, 0xC000)]
    [InlineData(65504f, 0x7BFF)]          // largest finite half
    [InlineData(65520f, 0x7C00)]          // rounds up to +inf
    [InlineData(5.9604645e-8f, 0x0001)]   // 2^-24, smallest subnormal
    [InlineData(0.33333334f, 0x3555)]
    [InlineData(1.00048828125f, 0x3C00)]  // 1 + 2^-11: tie, rounds to even (down)
    [InlineData(1.00146484375f, 0x3C02)]  // 1 + 3·2^-11: tie, rounds to even (up)
    public void Float_to_half_rounds_to_nearest_even(float value, int expected)
    {
        Assert.Equal((ushort)expected, HalfConverter.FloatToHalf(value));
    }

    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(-1.0f, 0xBF80)]
    [InlineData(1.00390625f, 0x3F80)]  // 1 + 2^-8: tie, even stays
    [InlineData(1.01171875f, 0x3F82)]  // 1 + 3·2^-8: tie, rounds up to even
    [InlineData(1.0078125f, 0x3F81)]   // exactly representable
    [InlineData(3.4028235e38f, 0x7F80)] // float max rounds to +inf, as ggml does
    public void Float_to_bf16_rounds_to_nearest_even(float value, int expected)
    {
        Assert.Equal((ushort)expected, HalfConverter.FloatToBf16(value));
    }

    [Fact]
    public void Bf16_nan_stays_a_quiet_nan()
    {
        var signalling = BitConverter.UInt32BitsToSingle(0x7F800001);
        var bits = HalfConverter.FloatToBf16(signalling);
        Assert.True(float.IsNaN(HalfConverter.Bf16ToFloat(bits)));
        Assert.NotEqual(0, bits & 0x0040);
    }

    [Fact]
    public void Widening_is_exact_for_every_half()
    {
        for (var bits = 0; bits <= 0xFFFF; bits++)
        {
            var f = HalfConverter.HalfToFloat((ushort)bits);
            if (!float.IsNaN(f))
            {
                Assert.Equal((ushort)bits, HalfConverter.FloatToHalf(f));
            }
        }
    }

    [Fact]
    public void Bf16_to_float_is_the_top_half_of_the_float_bits()
    {
        Assert.Equal(1.0f, HalfConverter.Bf16ToFloat(0x3F80));
        Assert.Equal(-0.5f, HalfConverter.Bf16ToFloat(0xBF00));
    }
}
