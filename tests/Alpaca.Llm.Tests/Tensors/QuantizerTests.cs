using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.Tensors;

/// <summary>
/// Quant codecs against blocks worked out by hand from ggml's reference algorithm, plus error bounds on
/// random data. Scales are chosen as powers of two so every intermediate is exact and ties are real ties.
/// </summary>
public class QuantizerTests
{
    [Fact]
    public void Q8_0_hand_worked_block_rounds_half_away_from_zero()
    {
        // amax = 254 → d = 2 (exact in fp16: 0x4000), id = 0.5.
        var x = new float[32];
        x[0] = 254f;   // → 127
        x[1] = -254f;  // → -127
        x[2] = 5f;     // 2.5 → 3 (away from zero; banker's rounding would give 2)
        x[3] = -5f;    // -2.5 → -3
        x[4] = 0.98f;  // 0.49 → 0
        x[5] = 3f;     // 1.5 → 2
        x[6] = -1f;    // -0.5 → -1
        x[7] = 7.2f;   // 3.6 → 4
        var bytes = Quantizer.Quantize(GgmlType.Q8_0, x);

        Assert.Equal(34, bytes.Length);
        Assert.Equal(0x00, bytes[0]);
        Assert.Equal(0x40, bytes[1]);
        var q = bytes.Skip(2).Select(b => (sbyte)b).ToArray();
        Assert.Equal(new sbyte[] { 127, -127, 3, -3, 0, 2, -1, 4 }, q[..8]);
        Assert.All(q[8..], v => Assert.Equal(0, v));

        var back = Quantizer.Dequantize(GgmlType.Q8_0, bytes, 32);
        Assert.Equal(new[] { 254f, -254f, 6f, -6f, 0f, 4f, -2f, 8f }, back[..8]);
    }

    [Fact]
    public void Q8_0_scale_is_stored_as_fp16_but_quants_use_the_float_scale()
    {
        // amax = 1 → d = 1/127 (not representable in fp16). x = 1 must still quantize to 127.
        var x = new float[32];
        x[0] = 1f;
        x[1] = -0.5f;
        var bytes = Quantizer.Quantize(GgmlType.Q8_0, x);
        Assert.Equal(HalfConverter.FloatToHalf(1f / 127f), (ushort)(bytes[0] | (bytes[1] << 8)));
        Assert.Equal(127, (sbyte)bytes[2]);
        Assert.Equal(-64, (sbyte)bytes[3]); // -63.5 → -64 (half away from zero)
    }

    [Fact]
    public void Q8_0_all_zero_block_has_zero_scale_and_quants()
    {
        var bytes = Quantizer.Quantize(GgmlType.Q8_0, new float[64]);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Q4_0_hand_worked_block_with_negative_extreme()
    {
        // Largest magnitude is -8 → d = -8 / -8 = 1, id = 1; q = min(15, trunc(x + 8.5)).
        var x = new float[32];
        x[0] = -8f;     // 0.5 → 0 → value -8
        x[1] = 7.4f;    // 15.9 → 15 → 7
        x[2] = 0.5f;    // 9.0 → 9 → 1 (tie goes up)
        x[3] = -0.5f;   // 8.0 → 8 → 0
        x[16] = 8f;     // 16.5 → 16 → clamped 15 → 7
        x[17] = -7.6f;  // 0.9 → 0 → -8
        x[31] = 2.2f;   // 10.7 → 10 → 2
        var bytes = Quantizer.Quantize(GgmlType.Q4_0, x);

        Assert.Equal(18, bytes.Length);
        Assert.Equal(0x3C00, bytes[0] | (bytes[1] << 8)); // d = 1.0
        // byte j = element j (low nibble) | element j+16 (high nibble); zeros quantize to 8.
        Assert.Equal(0x0 | (15 << 4), bytes[2 + 0]);
        Assert.Equal(15 | (0 << 4), bytes[2 + 1]);
        Assert.Equal(9 | (8 << 4), bytes[2 + 2]);
        Assert.Equal(8 | (8 << 4), bytes[2 + 3]);
        Assert.Equal(8 | (10 << 4), bytes[2 + 15]);

        var back = Quantizer.Dequantize(GgmlType.Q4_0, bytes, 32);
        Assert.Equal(-8f, back[0]);
        Assert.Equal(7f, back[1]);
        Assert.Equal(1f, back[2]);
        Assert.Equal(0f, back[3]);
        Assert.Equal(7f, back[16]);
        Assert.Equal(-8f, back[17]);
        Assert.Equal(2f, back[31]);
    }

    [Fact]
    public void Q4_0_positive_extreme_gives_negative_scale()
    {
        // max = +4 → d = -0.5 (fp16 0xB800), id = -2: x = 4 → -8 + 8.5 = 0.5 → 0 → (0-8)·(-0.5) = 4.
        var x = new float[32];
        x[0] = 4f;
        x[1] = -3f; // 6 + 8.5 = 14.5 → 14 → (14-8)·(-0.5) = -3
        x[2] = 1.1f; // -2.2 + 8.5 = 6.3 → 6 → 1
        var bytes = Quantizer.Quantize(GgmlType.Q4_0, x);
        Assert.Equal(0xB800, bytes[0] | (bytes[1] << 8));
        Assert.Equal(0 | (8 << 4), bytes[2]);
        Assert.Equal(14 | (8 << 4), bytes[3]);
        Assert.Equal(6 | (8 << 4), bytes[4]);
        var back = Quantizer.Dequantize(GgmlType.Q4_0, bytes, 32);
        Assert.Equal(new[] { 4f, -3f, 1f }, back[..3]);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Random_rows_stay_within_the_quantization_error_bound(GgmlType type)
    {
        var rng = new Random(7);
        var x = Enumerable.Range(0, 32 * 64).Select(_ => (float)((rng.NextDouble() * 2) - 1) * (float)Math.Exp(rng.Next(-6, 4))).ToArray();
        var back = Quantizer.Dequantize(type, Quantizer.Quantize(type, x), x.Length);
        for (var b = 0; b < x.Length / 32; b++)
        {
            var block = x.AsSpan(b * 32, 32);
            var amax = 0f;
            foreach (var v in block)
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            // Q8_0: step d = amax/127, error ≤ d/2; Q4_0: step amax/8, error ≤ d/2 except the clamped top (≤ d).
            // Plus the fp16 rounding of the scale: relative 2^-11 of the largest representable value.
            var d = type == GgmlType.Q8_0 ? amax / 127 : amax / 8;
            var bound = (type == GgmlType.Q8_0 ? d / 2 : d) + (amax * 1.2f / 2048) + 1e-7f;
            for (var j = 0; j < 32; j++)
            {
                Assert.True(Math.Abs(block[j] - back[(b * 32) + j]) <= bound, $"{type} block {b} elem {j}: {block[j]} vs {back[(b * 32) + j]}, bound {bound}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Requantizing_a_dequantized_row_is_a_fixed_point(GgmlType type)
    {
        // Values already on the grid must encode to the same bytes: catches scale/rounding drift.
        var rng = new Random(3);
        var x = Enumerable.Range(0, 256).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var once = Quantizer.Quantize(type, x);
        var twice = Quantizer.Quantize(type, Quantizer.Dequantize(type, once, x.Length));
        Assert.Equal(once, twice);
    }

    [Fact]
    public void Sizes_must_be_whole_blocks()
    {
        var e = Assert.Throws<ArgumentException>(() => Quantizer.Quantize(GgmlType.Q8_0, new float[33]));
        Assert.Contains("32", e.Message);
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(GgmlType.Q4_0, new float[32], new byte[17]));
        Assert.Throws<NotSupportedException>(() => Quantizer.Quantize(GgmlType.Q4_1, new float[32]));
    }

    [Fact]
    public void Type_table_matches_ggml()
    {
        Assert.Equal(18, GgmlTypeInfo.Of(GgmlType.Q4_0).BytesPerBlock);
        Assert.Equal(34, GgmlTypeInfo.Of(GgmlType.Q8_0).BytesPerBlock);
        Assert.Equal(144, GgmlTypeInfo.Of(GgmlType.Q4_K).BytesPerBlock);
        Assert.Equal(210, GgmlTypeInfo.Of(GgmlType.Q6_K).BytesPerBlock);
        Assert.Equal(4.5, GgmlTypeInfo.Of(GgmlType.Q4_0).BitsPerWeight);
        Assert.Equal(8.5, GgmlTypeInfo.Of(GgmlType.Q8_0).BitsPerWeight);
        Assert.Equal(288 / 32 * 34, GgmlTypeInfo.RowBytes(GgmlType.Q8_0, 288));
        Assert.Equal(30u, (uint)GgmlType.BF16);
        Assert.False(GgmlTypeInfo.IsKnown((GgmlType)4));
    }
}
