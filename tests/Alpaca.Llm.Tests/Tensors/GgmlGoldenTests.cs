using System.Runtime.InteropServices;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Tensors;

/// <summary>
/// Our reference codecs must be bit-exact with ggml's own: the golden files were written by
/// <c>ggml_quantize_chunk</c> of a real libggml (see Golden/ggml-quant/make-golden.sh) on 4096 inputs
/// that include rounding ties, all-zero blocks, equal ± extremes, subnormals and fp16-overflowing scales.
/// </summary>
public class GgmlGoldenTests
{
    private static string Golden(string name) => Path.Combine(RepoPaths.Root, "tests", "Alpaca.Llm.Tests", "Golden", "ggml-quant", name);

    private static float[] Input() => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Golden("input.f32"))).ToArray();

    [Theory]
    [InlineData(GgmlType.F16, "out.f16")]
    [InlineData(GgmlType.BF16, "out.bf16")]
    [InlineData(GgmlType.Q8_0, "out.q8_0")]
    [InlineData(GgmlType.Q4_0, "out.q4_0")]
    public void Quantize_matches_ggml_byte_for_byte(GgmlType type, string file)
    {
        var input = Input();
        Assert.Equal(4096, input.Length);
        var expected = File.ReadAllBytes(Golden(file));
        var actual = Quantizer.Quantize(type, input);
        Assert.Equal(expected.Length, actual.Length);
        var rowBytes = (int)GgmlTypeInfo.RowBytes(type, 32);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i] == actual[i], $"{type}: first difference at byte {i} (block {i / rowBytes}): ggml {expected[i]:X2}, ours {actual[i]:X2}");
        }
    }

    /// <summary>
    /// The K-quant encoders against <c>quantize_row_qN_K_ref</c> (what ggml_quantize_chunk runs without an
    /// importance matrix): 16 super-blocks, each mixing sub-blocks of very different scales, exact ties,
    /// zeros, subnormals and near-fp16-max values, so the search over trial scales, the 6-bit scale rounding
    /// and the degenerate paths (all-zero sub-blocks, 1/d overflow) are all compared.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_K, "out.q4_k")]
    [InlineData(GgmlType.Q5_K, "out.q5_k")]
    [InlineData(GgmlType.Q6_K, "out.q6_k")]
    [InlineData(GgmlType.Q3_K, "out.q3_k")]
    [InlineData(GgmlType.Q2_K, "out.q2_k")]
    public void K_quant_encoding_matches_ggml_byte_for_byte(GgmlType type, string file)
    {
        var expected = File.ReadAllBytes(Golden(file));
        var actual = Quantizer.Quantize(type, Input());
        Assert.Equal(expected.Length, actual.Length);
        var blockBytes = GgmlTypeInfo.Of(type).BytesPerBlock;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i] == actual[i], $"{type}: first difference at byte {i % blockBytes} of super-block {i / blockBytes}: ggml {expected[i]:X2}, ours {actual[i]:X2}");
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, "out.q4_k")]
    [InlineData(GgmlType.Q6_K, "out.q6_k")]
    [InlineData(GgmlType.Q5_K, "out.q5_k")]
    [InlineData(GgmlType.Q3_K, "out.q3_k")]
    [InlineData(GgmlType.Q2_K, "out.q2_k")]
    public void K_quant_decoding_matches_ggml_bit_for_bit(GgmlType type, string file)
    {
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Golden(file + ".f32"))).ToArray();
        var actual = Quantizer.Dequantize(type, File.ReadAllBytes(Golden(file)), 4096);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{type}: element {i}: ggml {expected[i]}, ours {actual[i]}");
        }

        // And the decoded values are close to the inputs they came from (a sanity check on the golden data itself).
        // Blocks of very different scales share a super-block scale, so compare against the super-block's amax.
        // 2- and 3-bit types keep only a coarse shape of the values.
        var input = Input();
        var bound = type switch { GgmlType.Q2_K => 0.6, GgmlType.Q3_K => 0.35, _ => 0.15 };
        for (var sb = 0; sb < 16; sb++)
        {
            var x = input.AsSpan(sb * 256, 256).ToArray();
            var amax = x.Max(Math.Abs);
            Assert.True(x.Zip(expected.AsSpan(sb * 256, 256).ToArray()).All(p => Math.Abs(p.First - p.Second) <= (bound * amax) + 1e-30), $"{type} super-block {sb}");
        }
    }
}
