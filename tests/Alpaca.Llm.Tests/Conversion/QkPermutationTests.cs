using Alpaca.Llm.Conversion;

namespace Alpaca.Llm.Tests.Conversion;

public class QkPermutationTests
{
    [Fact]
    public void Hand_checked_single_head()
    {
        // head_dim 6: HF rows [r0 r1 r2 | r3 r4 r5] pair r_i with r_{i+3}; GGUF interleaves them:
        // GGUF order = r0 r3 r1 r4 r2 r5.
        var hf = new[] { 0, 1, 2, 3, 4, 5 };
        Assert.Equal(new[] { 0, 3, 1, 4, 2, 5 }, QkPermutation.HfToGguf(hf, nHeads: 1, rowLength: 1));
    }

    [Fact]
    public void Hand_checked_two_heads_with_two_columns()
    {
        // 2 heads × head_dim 4, rows of 2 columns; row r holds (10r, 10r+1).
        var hf = Enumerable.Range(0, 8).SelectMany(r => new[] { 10 * r, (10 * r) + 1 }).ToArray();
        var gguf = QkPermutation.HfToGguf(hf, nHeads: 2, rowLength: 2);
        var rowOrder = Enumerable.Range(0, 8).Select(i => gguf[2 * i] / 10).ToArray();
        Assert.Equal(new[] { 0, 2, 1, 3, 4, 6, 5, 7 }, rowOrder);
        Assert.Equal(21, gguf[3]); // row 1 of GGUF is HF row 2, second column
    }

    [Fact]
    public void Gguf_to_hf_is_the_inverse()
    {
        var rng = new Random(5);
        foreach (var (heads, headDim, cols) in new[] { (1, 2, 1), (4, 16, 8), (3, 8, 5), (32, 64, 3) })
        {
            var x = Enumerable.Range(0, heads * headDim * cols).Select(_ => rng.NextSingle()).ToArray();
            Assert.Equal(x, QkPermutation.GgufToHf(QkPermutation.HfToGguf(x, heads, cols), heads, cols));
            Assert.Equal(x, QkPermutation.HfToGguf(QkPermutation.GgufToHf(x, heads, cols), heads, cols));
            if (headDim > 2)
            {
                Assert.NotEqual(x, QkPermutation.HfToGguf(x, heads, cols)); // head_dim 2 is the identity
            }
        }
    }

    [Fact]
    public void Matches_the_converters_reshape_swapaxes_definition()
    {
        // convert_hf_to_gguf: w.reshape(n_head, 2, hd/2, in).swapaxes(1, 2).reshape(w.shape).
        // Element [h, i, j] of the swapped view is element [h, j, i] of the HF view.
        const int heads = 3, hd = 8, cols = 2;
        var w = Enumerable.Range(0, heads * hd * cols).ToArray();
        var expected = new int[w.Length];
        var o = 0;
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < hd / 2; i++)
            {
                for (var j = 0; j < 2; j++)
                {
                    for (var c = 0; c < cols; c++)
                    {
                        expected[o++] = w[(((h * 2) + j) * (hd / 2) + i) * cols + c];
                    }
                }
            }
        }

        Assert.Equal(expected, QkPermutation.HfToGguf(w, heads, cols));
    }

    [Fact]
    public void Bad_shapes_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => QkPermutation.HfToGguf(new int[12], nHeads: 5, rowLength: 1));
        Assert.Throws<ArgumentException>(() => QkPermutation.HfToGguf(new int[6], nHeads: 2, rowLength: 1)); // head_dim 3 is odd
    }
}
