using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.Tensors;

/// <summary>K-quant decoding against hand-packed super-blocks (layout from ggml's block structs, values from its dequantize_row_* formulas).</summary>
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

    [Fact]
    public void Q5_K_adds_the_fifth_bit_from_qh()
    {
        var block = new byte[176];
        WriteHalf(block, 0, 1.0f);   // d
        WriteHalf(block, 2, 0.5f);   // dmin
        var s = block.AsSpan(4, 12);
        s[0] = 3; // sub-block 0: scale 3
        s[4] = 4; //              min 4
        s[1] = 5; // sub-block 1: scale 5, min 0
        s[2] = 2; // sub-block 2: scale 2, min 0
        var qh = block.AsSpan(16, 32);
        var ql = block.AsSpan(48, 128);
        ql[0] = 0x7;   // element 0: nibble 7 ...
        qh[0] = 1;     // ... + bit 0 of qh[0] (chunk 0, low nibbles) → q = 23
        ql[1] = 0x20;  // element 33: high nibble 2 ...
        qh[1] = 2;     // ... + bit 1 of qh[1] (chunk 0, high nibbles) → q = 18
        ql[32 + 5] = 0x1; // element 64 + 5: chunk 1 low nibble 1 ...
        qh[5] = 1 << 2;   // ... + bit 2 (chunk 1, low) → q = 17
        var y = Quantizer.Dequantize(GgmlType.Q5_K, block, 256);
        Assert.Equal((1f * 3 * 23) - (0.5f * 4), y[0]);
        Assert.Equal(-(0.5f * 4), y[1]);
        Assert.Equal(1f * 5 * 18, y[33]);
        Assert.Equal(1f * 2 * 17, y[69]);
        Assert.Equal(0f, y[70]);
    }

    [Fact]
    public void Q3_K_subtracts_four_where_the_high_bit_is_clear()
    {
        var block = new byte[110];
        WriteHalf(block, 108, 0.5f);
        var hm = block.AsSpan(0, 32);
        var q = block.AsSpan(32, 64);
        var s = block.AsSpan(96, 12);
        // Scale 0 = low nibble of s[0] | bits 0-1 of s[8] << 4 = 5 | 2 << 4 = 37 → 37 − 32 = 5.
        s[0] = 5;
        s[8] = 2;
        q[0] = 2;   // element 0: 2-bit value 2 (shift 0) ...
        hm[0] = 1;  // ... high bit set (mask 1): q = 2
        // Scale 13 (elements 208..223: second half, shift 4, hmask bit 6) = high nibble of s[5] | bits 6-7 of s[9] << 4.
        s[5] = 0x30;
        s[9] = 0x80; // → 3 | 2 << 4 = 35 → 3
        q[32 + 16] = 3 << 4;
        hm[16] = 1 << 6;
        var y = Quantizer.Dequantize(GgmlType.Q3_K, block, 256);
        Assert.Equal(0.5f * 5 * 2, y[0]);
        Assert.Equal(0.5f * 5 * -4, y[1]);   // q = 0, high bit clear → −4
        Assert.Equal(0.5f * 3 * 3, y[208]);
        Assert.Equal(0.5f * 3 * -4, y[209]);
        Assert.Equal(0.5f * -32 * -4, y[16]); // scale 1 is 0 → 0 − 32
    }

    [Fact]
    public void Q2_K_uses_a_nibble_scale_and_min_per_sixteen()
    {
        var block = new byte[84];
        WriteHalf(block, 80, 0.25f); // d
        WriteHalf(block, 82, 1.0f);  // dmin
        var sc = block.AsSpan(0, 16);
        var q = block.AsSpan(16, 64);
        sc[0] = 0x21;  // sub-block 0: scale 1, min 2
        q[0] = 3;      // element 0 (shift 0): 3
        sc[15] = 0x3F; // sub-block 15 (elements 240..255: second half, shift 6, l 16..31): scale 15, min 3
        q[32 + 18] = 2 << 6; // element 242
        var y = Quantizer.Dequantize(GgmlType.Q2_K, block, 256);
        Assert.Equal((0.25f * 1 * 3) - 2f, y[0]);
        Assert.Equal(-2f, y[1]);
        Assert.Equal((0.25f * 15 * 2) - 3f, y[242]);
        Assert.Equal(-3f, y[243]);
    }

    private static void WriteHalf(byte[] b, int at, float v)
    {
        var h = HalfConverter.FloatToHalf(v);
        b[at] = (byte)h;
        b[at + 1] = (byte)(h >> 8);
    }
}
