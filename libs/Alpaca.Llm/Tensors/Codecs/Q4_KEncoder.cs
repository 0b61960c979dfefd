namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q4_K encoding, byte-identical to ggml's <c>quantize_row_q4_K_ref</c> (what llama-quantize writes without
/// an importance matrix): sub-block fits with nmax 15 and 21 trial scales (rmin −1, step 0.1), then the
/// 4-bit quants packed as <see cref="Q4_KCodec"/> reads them (byte l of 64-weight chunk c holds weights
/// 64c + l in its low nibble and 64c + 32 + l in its high nibble).
/// </summary>
internal static class Q4_KEncoder
{
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> L = stackalloc byte[256];
        for (int b = 0, nb = src.Length / Q4_KCodec.BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * Q4_KCodec.BlockSize, Q4_KCodec.BlockSize);
            var y = dst.Slice(b * Q4_KCodec.BlockBytes, Q4_KCodec.BlockBytes);
            KScaleMinFit.Fit(x, 15, -1f, 0.1f, 20, y, L);
            var q = y[16..];
            for (var chunk = 0; chunk < 4; chunk++)
            {
                for (var l = 0; l < 32; l++)
                {
                    q[(32 * chunk) + l] = (byte)(L[(64 * chunk) + l] | (L[(64 * chunk) + l + 32] << 4));
                }
            }
        }
    }
}
