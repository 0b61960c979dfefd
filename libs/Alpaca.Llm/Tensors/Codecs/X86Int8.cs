namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// C's float → int8_t conversion as gcc compiles it on x86 (<c>cvttss2si</c> to int32, keep the low byte).
/// ggml's reference quantizers rely on it; for NaN, ±inf and values beyond int32 (which only arise in
/// degenerate blocks, e.g. all-subnormal ones where 1/d overflows) the instruction yields 0x80000000, so
/// the byte is 0. Matching this keeps our files byte-identical with llama-quantize on this platform.
/// </summary>
internal static class X86Int8
{
    public static sbyte Truncate(float v)
    {
        if (!(MathF.Abs(v) < 2147483648f))
        {
            return 0; // NaN, ±inf, out of int32 range: the "integer indefinite" 0x80000000, low byte 0
        }

        return unchecked((sbyte)(int)v);
    }
}
