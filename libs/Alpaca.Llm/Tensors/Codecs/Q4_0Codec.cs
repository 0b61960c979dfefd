namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q4_0: blocks of 32 weights = fp16 scale d + 16 bytes of nibbles, value = d·(nibble − 8)
/// (18 bytes, 4.5 bits/weight). Byte j holds element j (low nibble) and element j + 16 (high nibble).
/// Quantization follows ggml's <c>quantize_row_q4_0_ref</c>: the element of largest magnitude keeps its
/// sign (max), d = max / −8, q = min(15, (int8)(x·id + 8.5)) with truncation, so that element lands on −8.
/// </summary>
internal static class Q4_0Codec
{
    public const int BlockSize = 32;
    public const int BlockBytes = 18;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0, nb = src.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var y = dst.Slice(b * BlockBytes, BlockBytes);

            float amax = 0f, max = 0f;
            foreach (var v in x)
            {
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            var d = max / -8f;
            var id = d != 0f ? 1f / d : 0f;
            HalfConverter.WriteHalf(y, d);
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var lo = ToNibble(x[j] * id);
                var hi = ToNibble(x[j + BlockSize / 2] * id);
                y[2 + j] = unchecked((byte)(lo | (hi << 4)));
            }
        }
    }

    // MIN(15, (int8_t)(v + 8.5f)): truncation toward zero, with x86's conversion of non-finite values
    // (degenerate blocks whose 1/d overflows) to 0; the result goes through uint8_t as in ggml.
    private static int ToNibble(float v) => (byte)Math.Min(15, (int)X86Int8.Truncate(v + 8.5f));

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var d = HalfConverter.ReadHalf(x);
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var q = x[2 + j];
                y[j] = ((q & 0x0F) - 8) * d;
                y[j + BlockSize / 2] = ((q >> 4) - 8) * d;
            }
        }
    }
}
