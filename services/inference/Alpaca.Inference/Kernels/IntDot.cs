using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The one instruction that differs between the integer kernels' x86 paths: "multiply 32 unsigned weight
/// bytes by 32 signed activation bytes and add each group of four products into an int32 lane".
/// Kernels are generic over this struct so the JIT compiles one specialised copy per path.
/// </summary>
internal interface IIntDot
{
    /// <summary>True when the Q8 accumulator must start at −128·Σx (weights stored as q + 128).</summary>
    static abstract bool Q8Offset { get; }

    /// <summary>acc + dot4(w, x) with w = Q4 nibbles 0..15.</summary>
    static abstract Vector256<int> DotQ4(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x);

    /// <summary>acc + dot4(q, x) where the packed byte is q + 128 (q the signed Q8_0 quant).</summary>
    static abstract Vector256<int> DotQ8(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x);

    /// <summary>
    /// K-quants: acc + Σ over each 4 bytes of scale·w·x, w ≤ 63 unsigned, the int16 scale per pair of
    /// bytes (ggml's <c>maddubs</c> then <c>madd</c> with the scales). Pair sums ≤ 2·63·127 fit in int16.
    /// </summary>
    static abstract Vector256<int> DotScaled(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x, Vector256<short> scale);

    /// <summary>acc + Σ over each int16 pair of pair·scale (<c>vpmaddwd</c> + add, or <c>vpdpwssd</c>).</summary>
    static abstract Vector256<int> AddScaled(Vector256<int> acc, Vector256<short> pairs, Vector256<short> scale);
}

/// <summary>AVX-VNNI: one <c>vpdpbusd</c> per 32 byte pairs.</summary>
internal readonly struct VnniDot : IIntDot
{
    public static bool Q8Offset => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotQ4(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x) =>
        AvxVnni.MultiplyWideningAndAdd(acc, w, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotQ8(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x) =>
        AvxVnni.MultiplyWideningAndAdd(acc, w, x);

    /// <summary><c>vpmaddubsw</c> then <c>vpdpwssd</c> (the scale multiply and the accumulation in one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotScaled(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x, Vector256<short> scale) =>
        AvxVnni.MultiplyWideningAndAdd(acc, Avx2.MultiplyAddAdjacent(w, x), scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> AddScaled(Vector256<int> acc, Vector256<short> pairs, Vector256<short> scale) =>
        AvxVnni.MultiplyWideningAndAdd(acc, pairs, scale);
}

/// <summary>
/// Plain AVX2: <c>vpmaddubsw</c> (u8×s8 → pairs summed to i16) then <c>vpmaddwd</c> with ones (→ i32).
/// Q4 nibbles (≤ 15) times |x| ≤ 127 cannot saturate the i16 pair sums. Q8 quants + 128 could, so the
/// Q8 variant restores the signed quant and moves its sign onto x (|q|·sign(x, q)), as ggml does.
/// </summary>
internal readonly struct Avx2Dot : IIntDot
{
    public static bool Q8Offset => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotQ4(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, x), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotQ8(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x)
    {
        var q = (w ^ Vector256.Create((byte)0x80)).AsSByte();
        var pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(q), Avx2.Sign(x, q));
        return acc + Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotScaled(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x, Vector256<short> scale) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, x), scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> AddScaled(Vector256<int> acc, Vector256<short> pairs, Vector256<short> scale) =>
        acc + Avx2.MultiplyAddAdjacent(pairs, scale);
}
