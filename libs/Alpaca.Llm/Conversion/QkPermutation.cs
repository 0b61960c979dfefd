namespace Alpaca.Llm.Conversion;

/// <summary>
/// The row permutation llama.cpp's <c>convert_hf_to_gguf.py</c> applies to Wq and Wk. Hugging Face
/// LLaMA checkpoints rotate pairs (x[i], x[i + hd/2]) ("rotate_half"); llama.cpp rotates adjacent pairs
/// (x[2i], x[2i+1]). Within each head the converter views the rows as [2, hd/2], swaps the axes and
/// flattens: GGUF row h·hd + 2i + j comes from HF row h·hd + j·hd/2 + i (j ∈ {0, 1}).
/// Rows are moved whole, so the same code permutes float rows or encoded (quantized) rows.
/// Use the head count of the tensor: n_head for Wq, n_kv_head for Wk.
/// </summary>
public static class QkPermutation
{
    /// <summary>The HF row that lands on GGUF row <paramref name="ggufRow"/>.</summary>
    public static int HfRowForGgufRow(int ggufRow, int headDim)
    {
        CheckHeadDim(headDim);
        int head = ggufRow / headDim, r = ggufRow % headDim;
        int i = r / 2, j = r % 2;
        return (head * headDim) + (j * (headDim / 2)) + i;
    }

    /// <summary>HF (rotate_half) row order → GGUF (interleaved) row order.</summary>
    public static void HfToGguf<T>(ReadOnlySpan<T> src, Span<T> dst, int nHeads, int rowLength) =>
        Permute(src, dst, nHeads, rowLength, toGguf: true);

    /// <summary>GGUF (interleaved) row order → HF (rotate_half) row order; the inverse of <see cref="HfToGguf{T}"/>.</summary>
    public static void GgufToHf<T>(ReadOnlySpan<T> src, Span<T> dst, int nHeads, int rowLength) =>
        Permute(src, dst, nHeads, rowLength, toGguf: false);

    public static T[] HfToGguf<T>(T[] src, int nHeads, int rowLength)
    {
        var dst = new T[src.Length];
        HfToGguf<T>(src, dst, nHeads, rowLength);
        return dst;
    }

    public static T[] GgufToHf<T>(T[] src, int nHeads, int rowLength)
    {
        var dst = new T[src.Length];
        GgufToHf<T>(src, dst, nHeads, rowLength);
        return dst;
    }

    private static void Permute<T>(ReadOnlySpan<T> src, Span<T> dst, int nHeads, int rowLength, bool toGguf)
    {
        if (src.Length != dst.Length)
        {
            throw new ArgumentException($"Source has {src.Length} elements, destination {dst.Length}.");
        }

        if (nHeads <= 0 || rowLength <= 0 || src.Length % rowLength != 0)
        {
            throw new ArgumentException($"{src.Length} elements are not whole rows of {rowLength} for {nHeads} heads.");
        }

        var rows = src.Length / rowLength;
        if (rows % nHeads != 0)
        {
            throw new ArgumentException($"{rows} rows do not split into {nHeads} heads.");
        }

        var headDim = rows / nHeads;
        CheckHeadDim(headDim);
        for (var g = 0; g < rows; g++)
        {
            var h = HfRowForGgufRow(g, headDim);
            var (from, to) = toGguf ? (h, g) : (g, h);
            src.Slice(from * rowLength, rowLength).CopyTo(dst.Slice(to * rowLength, rowLength));
        }
    }

    private static void CheckHeadDim(int headDim)
    {
        if (headDim <= 0 || headDim % 2 != 0)
        {
            throw new ArgumentException($"Head dimension {headDim} must be positive and even.");
        }
    }
}
