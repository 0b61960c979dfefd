using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Tests.Kernels;

public class HalfVectorsTests
{
    [Fact]
    public void Widening_is_exact_for_every_finite_half()
    {
        for (var h = 0; h < 65536; h++)
        {
            var half = BitConverter.UInt16BitsToHalf((ushort)h);
            if (!Half.IsFinite(half))
            {
                continue;
            }

            var expected = (float)half;
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(HalfVectors.HalfToFloat((ushort)h)));
            var portable = HalfVectors.HalfToFloatPortable(Vector128.Create((uint)h)).GetElement(0);
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(portable));
            if (Avx2.IsSupported)
            {
                var v = HalfVectors.HalfToFloat(Vector128.Create((ushort)h)).GetElement(3);
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(v));
            }

            if (Avx512F.IsSupported)
            {
                var v = HalfVectors.HalfToFloat(Vector256.Create((ushort)h)).GetElement(11);
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(v));
            }
        }
    }

    [Fact]
    public void Scaled_widening_times_two_to_the_112_is_every_finite_half()
    {
        var rebias = MathF.Pow(2, 112);
        for (var h = 0; h < 65536; h++)
        {
            var half = BitConverter.UInt16BitsToHalf((ushort)h);
            if (!Half.IsFinite(half))
            {
                continue;
            }

            // The scaled value is exact (a power-of-two rescale), so one multiply must give the half back bit for bit.
            var expected = BitConverter.SingleToUInt32Bits((float)half);
            Assert.Equal(expected, BitConverter.SingleToUInt32Bits(HalfVectors.HalfToScaledFloat((short)h) * rebias));
            if (Avx2.IsSupported)
            {
                var v = HalfVectors.HalfToScaledFloat(Vector128.Create((short)h)).GetElement(5);
                Assert.Equal(expected, BitConverter.SingleToUInt32Bits(v * rebias));
            }

            if (Avx512F.IsSupported)
            {
                var v = HalfVectors.HalfToScaledFloat(Vector256.Create((short)h)).GetElement(13);
                Assert.Equal(expected, BitConverter.SingleToUInt32Bits(v * rebias));
            }
        }
    }
}
