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
}
