namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// The 12-byte scale field shared by Q4_K and Q5_K: eight 6-bit sub-block scales and eight 6-bit mins.
/// Sub-blocks 0–3 keep theirs in the low 6 bits of bytes 0–3 (scales) and 4–7 (mins); sub-blocks 4–7 keep
/// their low 4 bits in bytes 8–11 (scale low nibble, min high nibble) and their top 2 bits in the top
/// bits of bytes 0–3 (scales) and 4–7 (mins).
/// </summary>
internal static class K4Scales
{
    /// <summary>ggml <c>get_scale_min_k4</c>: unpacks the 6-bit scale and min of sub-block j.</summary>
    public static void Unpack(int j, ReadOnlySpan<byte> s, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = s[j] & 63;
            min = s[j + 4] & 63;
        }
        else
        {
            scale = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
            min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
    }

    /// <summary>The packing of <c>quantize_row_q4_K_ref</c>; sub-blocks must be packed in order 0..7.</summary>
    public static void Pack(int j, int scale, int min, Span<byte> s)
    {
        if (j < 4)
        {
            s[j] = (byte)scale;
            s[j + 4] = (byte)min;
        }
        else
        {
            s[j + 4] = (byte)((scale & 0xF) | ((min & 0xF) << 4));
            s[j - 4] |= (byte)((scale >> 4) << 6);
            s[j] |= (byte)((min >> 4) << 6);
        }
    }
}
