using System.Runtime.Intrinsics.X86;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The row-interleaved copy of a Q4_K / Q5_K / Q6_K matrix that the x86 K-quant kernels read, made once at
/// load (the idea of llama.cpp's <c>q4_Kx8</c> repacking, in the byte order of <see cref="PackedQuantLayout"/>).
/// Rows are taken in groups of 8; each (group, 256-column super-block) is one record, records of a group
/// follow each other and groups follow each other, so a matrix–vector product is one sequential stream.
/// A record holds, with every super-block already unpacked (<see cref="KQuantBlock"/>) so the kernels
/// decode no scales, no 6-bit packing and no high bits:
/// <list type="bullet">
/// <item>quants, 8 chunks of 32 columns. Chunk c is 8 vectors of 32 bytes, vector k holding columns
/// 32c+4k..32c+4k+3 of row r at bytes 4r..4r+3 (one broadcast of 4 activation bytes serves all 8 rows, and
/// row r's sum lands in int32 lane r). Q5_K and Q6_K store the unsigned quant (0..31, 0..63) as a byte
/// (256 bytes a chunk); Q4_K stores two nibbles (128 bytes a chunk: vector k &lt; 4 is the low nibbles of
/// bytes 32k.., vector k ≥ 4 their high nibbles);</item>
/// <item>scales, 16 × 8 int16 (row r at index r): Q6_K the int8 scale of each 16 columns; Q4_K/Q5_K the
/// 6-bit scale of each 32 columns (8 × 8) then the 6-bit min of each 32 columns (8 × 8);</item>
/// <item>floats: d of the 8 rows, then m (Q4_K/Q5_K: dmin; Q6_K: 32·d, its quants being stored as q + 32,
/// so its "mins" are its scales).</item>
/// </list>
/// The super-block's dot product with Q8_K activations (x, dx, bsums) is then, per row,
/// <c>dx·(d·Σ_chunks scale·Σ u·x − m·Σ_j min_j·bsum_j)</c>. Rows past the end are all zero.
/// </summary>
internal static unsafe class KQuantPackedLayout
{
    public const int RowsPerGroup = 8;
    public const int ScaleBytes = 16 * RowsPerGroup * sizeof(short);
    public const int FloatBytes = 2 * RowsPerGroup * sizeof(float);

    /// <summary>Repacked on x86 only: the Portable and Neon paths read the GGUF bytes in place.</summary>
    public static bool IsUsed(GgmlType type) => KQuantBlock.HasKernel(type) && Avx2.IsSupported;

    /// <summary>Quant bytes of one record (8 rows × 256 columns).</summary>
    public static int QuantBytes(GgmlType type) => type == GgmlType.Q4_K ? 1024 : 2048;

    public static int RecordBytes(GgmlType type) => QuantBytes(type) + ScaleBytes + FloatBytes;

    public static long Bytes(GgmlType type, int rows, int columns) =>
        (long)((rows + RowsPerGroup - 1) / RowsPerGroup) * (columns / Q8Activations.SuperBlockSize) * RecordBytes(type);

    /// <summary>Writes the packed copy of <paramref name="w"/> into <paramref name="dst"/> (<see cref="Bytes"/> zeroed bytes).</summary>
    public static void Pack(WeightMatrix w, byte* dst)
    {
        var groups = (w.Rows + RowsPerGroup - 1) / RowsPerGroup;
        var nsb = w.Columns / Q8Activations.SuperBlockSize;
        var record = RecordBytes(w.Type);
        // Runs once at load and is memory-bound: large matrices are packed in parallel.
        Parallel.For(0, groups, g =>
        {
            for (var sb = 0; sb < nsb; sb++)
            {
                PackRecord(w, g, sb, dst + (((long)g * nsb) + sb) * record);
            }
        });
    }

    private static void PackRecord(WeightMatrix w, int g, int sb, byte* rec)
    {
        var u = stackalloc byte[Q8Activations.SuperBlockSize];
        var scale16 = stackalloc int[16];
        var min16 = stackalloc int[16];
        var nibbles = w.Type == GgmlType.Q4_K;
        var six = w.Type == GgmlType.Q6_K;
        var quantBytes = QuantBytes(w.Type);
        var scales = (short*)(rec + quantBytes);
        var floats = (float*)(rec + quantBytes + ScaleBytes);
        var blockBytes = GgmlTypeInfo.Of(w.Type).BytesPerBlock;
        for (var r = 0; r < RowsPerGroup; r++)
        {
            var row = (g * RowsPerGroup) + r;
            if (row >= w.Rows)
            {
                // The buffer is zeroed: quants, scales, d and m of a missing row stay 0.
                continue;
            }

            KQuantBlock.Unpack(w.Type, w.Data + (row * w.RowBytes) + ((long)sb * blockBytes), u, scale16, min16, out var d, out var m);
            for (var c = 0; c < 8; c++)
            {
                for (var k = 0; k < 8; k++)
                {
                    for (var i = 0; i < 4; i++)
                    {
                        var col = (32 * c) + (4 * k) + i;
                        if (!nibbles)
                        {
                            rec[(256 * c) + (32 * k) + (4 * r) + i] = u[col];
                        }
                        else if (k < 4)
                        {
                            rec[(128 * c) + (32 * k) + (4 * r) + i] = (byte)(u[col] | (u[col + 16] << 4));
                        }
                    }
                }
            }

            for (var j = 0; j < 16; j++)
            {
                // Q6_K: one scale per 16 columns. Q4_K/Q5_K: scales per 32 columns (indices 0..7), mins after (8..15).
                scales[(j * RowsPerGroup) + r] = (short)(six ? scale16[j] : j < 8 ? scale16[2 * j] : min16[2 * (j - 8)]);
            }

            floats[r] = d;
            floats[RowsPerGroup + r] = six ? 32 * d : m;
        }
    }
}
