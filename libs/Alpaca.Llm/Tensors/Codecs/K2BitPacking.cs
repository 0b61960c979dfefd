namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// The 2-bit packing of Q2_K and Q3_K (ggml's reference quantizers): in each half of 128 weights, byte l
/// holds weights l, l + 32, l + 64 and l + 96 in bits 0–1, 2–3, 4–5 and 6–7.
/// </summary>
internal static class K2BitPacking
{
    public static void Pack(ReadOnlySpan<byte> L, Span<byte> qs)
    {
        for (var half = 0; half < 2; half++)
        {
            var o = 128 * half;
            for (var l = 0; l < 32; l++)
            {
                qs[(32 * half) + l] = (byte)(L[o + l] | (L[o + l + 32] << 2) | (L[o + l + 64] << 4) | (L[o + l + 96] << 6));
            }
        }
    }
}
