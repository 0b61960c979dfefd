using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The row-interleaved layout the integer kernels read (the idea of llama.cpp's q4_0x8 repacking, with
/// our own byte order). Rows are taken in groups of 8; for group g and 32-column block b:
/// <list type="bullet">
/// <item>scales: 8 fp16 values, row r at index r (stream <c>(g·Blocks + b)·8</c>);</item>
/// <item>Q8_0 quants: 256 bytes = 8 chunks of 4 columns; chunk c holds, for row r, bytes 4r..4r+3 =
/// quants 4c..4c+3 of that row's block, each stored as q + 128 (unsigned);</item>
/// <item>Q4_0 quants: 128 bytes = 4 chunks; chunk c holds, for row r, bytes 4r..4r+3 = the GGUF nibble
/// bytes 4c..4c+3 of that row's block, so the low nibbles are columns 4c..4c+3 and the high nibbles
/// columns 16+4c..16+4c+3 (nibbles stay unsigned 0..15).</item>
/// </list>
/// One 32-byte load therefore holds 4 columns of 8 rows, and one broadcast 4-byte group of activations
/// serves all 8 rows: a <c>vpdpbusd</c> leaves row r's partial dot product in int32 lane r, so 8 rows
/// finish in one register with no horizontal reduction. Rows past the end are zero (scale 0).
/// </summary>
public static unsafe class PackedQuantLayout
{
    public const int RowsPerGroup = 8;
    public const int BlockSize = 32;

    public static int QuantBytesPerGroupBlock(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => 256,
        GgmlType.Q4_0 => 128,
        _ => throw new NotSupportedException($"{type} has no packed layout."),
    };

    internal static void Pack(WeightMatrix w, byte* quants, ushort* scales)
    {
        var groupQuantBytes = (long)w.Blocks * QuantBytesPerGroupBlock(w.Type);
        // Large matrices are packed in parallel: it runs once at load and is memory-bound.
        Parallel.For(0, w.Groups, g => PackGroup(w, g, quants + g * groupQuantBytes, scales + (long)g * w.Blocks * RowsPerGroup));
    }

    private static void PackGroup(WeightMatrix w, int g, byte* quants, ushort* scales)
    {
        var blockBytes = GgmlTypeInfo.Of(w.Type).BytesPerBlock;
        var q8 = w.Type == GgmlType.Q8_0;
        var qBytes = QuantBytesPerGroupBlock(w.Type);
        for (var r = 0; r < RowsPerGroup; r++)
        {
            var row = g * RowsPerGroup + r;
            if (row >= w.Rows)
            {
                // Zero scale; the quants' value does not matter then.
                continue;
            }

            var src = w.Data + row * w.RowBytes;
            for (var b = 0; b < w.Blocks; b++)
            {
                var block = src + b * blockBytes;
                scales[b * RowsPerGroup + r] = *(ushort*)block;
                var dst = quants + (long)b * qBytes + 4 * r;
                var chunks = q8 ? 8 : 4;
                for (var c = 0; c < chunks; c++)
                {
                    for (var i = 0; i < 4; i++)
                    {
                        var v = block[2 + 4 * c + i];
                        dst[32 * c + i] = q8 ? (byte)(v ^ 0x80) : v;
                    }
                }
            }
        }
    }
}
