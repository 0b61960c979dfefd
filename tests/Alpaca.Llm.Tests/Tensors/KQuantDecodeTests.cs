using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.Tensors;

/// <summary>Q4_K and Q6_K decoding against hand-packed super-blocks (layout from ggml's block structs).</summary>
public class KQuantDecodeTests
{
    [Fact]
    public void Q4_K_unpacks_six_bit_scales_and_mins()
    {
        var block = new byte[144];
        WriteHalf(block, 0, 1.0f);   // d
        WriteHalf(block, 2, 0.5f);   // dmin
        var s = block.AsSpan(4, 12);
        // Sub-block 0: scale 3, min 4 (j < 4: low 6 bits of s[0], s[4]).
        s[0] = 3;
        s[4] = 4;
        // Sub-block 5: scale 37 = 0b10_0101, min 50 = 0b11_0010.
        // Low nibbles in s[9] (scale | min << 4), top 2 bits in s[1] >> 6 (scale) and s[5] >> 6 (min).
        s[9] = 0x5 | (0x2 << 4);
        s[1] |= 2 << 6;
        s[5] |= 3 << 6;
        var q = block.AsSpan(16, 128);
        q[0] = 0x7;          // element 0: sub-block 0 low nibble 7
        q[64 + 3] = 0x9 << 4; // chunk 2 high nibbles = sub-block 5; element 5·32 + 3 = 163 has q = 9

        var y = Quantizer.Dequantize(GgmlType.Q4_K, block, 256);
        Assert.Equal((1f * 3 * 7) - (0.5f * 4), y[0]);
        Assert.Equal(-(0.5f * 4), y[1]);
        Assert.Equal((1f * 37 * 9) - (0.5f * 50), y[163]);
        Assert.Equal(-(0.5f * 50), y[164]);
    }

    [Fact]
    public void Q6_K_combines_low_and_high_bits()
    {
        var block = new byte[210];
        WriteHalf(block, 208, 0.25f);
        var sc = block.AsSpan(192, 16);
        sc[0] = 2;                 // scale for elements 0..15 of the first half
        sc[4] = unchecked((byte)-3); // scale for elements 64..79
        var ql = block.AsSpan(0, 128);
        var qh = block.AsSpan(128, 64);
        // element 0: low 4 bits ql[0] & 0xF = 5, high 2 bits qh[0] & 3 = 2 → q = 5 | 2<<4 = 37 → 37 - 32 = 5
        ql[0] = 0x5;
        qh[0] = 0x2;
        // element 64: ql[0] >> 4 = 0xA, (qh[0] >> 4) & 3 = 1 → q = 10 | 16 = 26 → -6
        ql[0] |= 0xA << 4;
        qh[0] |= 1 << 4;

        var y = Quantizer.Dequantize(GgmlType.Q6_K, block, 256);
        Assert.Equal(0.25f * 2 * 5, y[0]);
        Assert.Equal(0.25f * -3 * -6, y[64]);
        Assert.Equal(0.25f * 2 * -32, y[1]); // all-zero bits decode to q - 32 = -32
    }

    private static void WriteHalf(byte[] b, int at, float v)
    {
        var h = HalfConverter.FloatToHalf(v);
        b[at] = (byte)h;
        b[at + 1] = (byte)(h >> 8);
    }
}
