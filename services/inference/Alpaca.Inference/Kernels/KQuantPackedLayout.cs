using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The row-interleaved copy of a Q4_K / Q5_K / Q6_K matrix that the x86 and Neon K-quant kernels read, made
/// once at load (the idea of llama.cpp's <c>q4_Kx8</c> repacking, in the byte order of <see cref="PackedQuantLayout"/>).
/// Rows are taken in groups of 8; each (group, 256-column super-block) is one record, records of a group
/// follow each other and groups follow each other, so a matrix–vector product is one sequential stream.
/// A record holds, with every super-block already unpacked (<see cref="KQuantBlock"/>) so the kernels
/// decode no 6-bit scales and no GGUF bit packing, and no more bytes than the GGUF blocks plus ~5%:
/// <list type="bullet">
/// <item>nibbles (1024 bytes): the low 4 bits of every unsigned quant u (Q4_K 0..15, Q5_K 0..31, Q6_K
/// 0..63), 8 chunks of 32 columns, 128 bytes each. Byte 4r+i of vector j (0..3) of chunk c holds row r's
/// column 32c+4j+i in its low nibble and column 32c+16+4j+i in its high nibble, so "vector k" (k = 0..7,
/// columns 32c+4k..+3 of the 8 rows, row r at bytes 4r..4r+3 — one broadcast of 4 activation bytes
/// serves all 8 rows and row r's sum lands in int32 lane r) is the low nibbles of vector k (k &lt; 4) or the
/// high nibbles of vector k − 4;</item>
/// <item>bit planes of the high bits (Q5_K: 1 bit, 32 bytes a chunk, 256 in all; Q6_K: 2 bits, 64 bytes a
/// chunk, 512 in all), recombined with the nibbles in registers. Q5_K: bit k of byte p of chunk c's plane
/// is bit 4 of vector k's byte p. Q6_K: plane h (0, 1) of chunk c holds vectors 4h..4h+3, bits 2k', 2k'+1
/// of byte p being bits 4, 5 of vector 4h+k''s byte p;</item>
/// <item>scales, 16 × 8 bytes (row r at index r): Q6_K the int8 scale of each 16 columns; Q4_K/Q5_K the
/// 6-bit scale of each 32 columns (8 × 8) then the 6-bit min of each 32 columns (8 × 8);</item>
/// <item>floats: d of the 8 rows, then m (Q4_K/Q5_K: dmin; Q6_K: 32·d, its quants being stored as q + 32,
/// so its "mins" are its scales).</item>
/// </list>
/// Record bytes (8 × 256 weights) against the GGUF blocks: Q4_K 1216 / 1152 (1.056×), Q5_K 1472 / 1408
/// (1.045×), Q6_K 1728 / 1680 (1.029×); every record is a multiple of 64 bytes, so records stay cache-line
/// aligned. The super-block's dot product with Q8_K activations (x, dx, bsums) is then, per row,
/// <c>dx·(d·Σ_chunks scale·Σ u·x − m·Σ_j min_j·bsum_j)</c>. Rows past the end are all zero.
/// </summary>
internal static unsafe class KQuantPackedLayout
{
    public const int RowsPerGroup = 8;
    public const int NibbleBytes = 1024;
    public const int ScaleBytes = 16 * RowsPerGroup;
    public const int FloatBytes = 2 * RowsPerGroup * sizeof(float);

    /// <summary>Repacked where a kernel reads it: x86 with AVX2 and ARM64 with <c>sdot</c>; Portable reads the GGUF bytes in place.</summary>
    public static bool IsUsed(GgmlType type) => KQuantBlock.HasKernel(type) && (Avx2.IsSupported || (AdvSimd.Arm64.IsSupported && Dp.IsSupported));

    /// <summary>High-bit plane bytes of one record: 0 (Q4_K), 256 (Q5_K, 1 bit a quant), 512 (Q6_K, 2 bits).</summary>
    public static int PlaneBytes(GgmlType type) => type switch
    {
        GgmlType.Q5_K => 256,
        GgmlType.Q6_K => 512,
        _ => 0,
    };

    /// <summary>Quant bytes of one record (8 rows × 256 columns): nibbles and bit planes.</summary>
    public static int QuantBytes(GgmlType type) => NibbleBytes + PlaneBytes(type);

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
        var six = w.Type == GgmlType.Q6_K;
        var five = w.Type == GgmlType.Q5_K;
        var planes = rec + NibbleBytes;
        var scales = rec + QuantBytes(w.Type);
        var floats = (float*)(scales + ScaleBytes);
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
                        var q = u[(32 * c) + (4 * k) + i];
                        var p = (4 * r) + i;
                        rec[(128 * c) + (32 * (k & 3)) + p] |= (byte)((q & 0x0F) << (k < 4 ? 0 : 4));
                        if (five)
                        {
                            planes[(32 * c) + p] |= (byte)(((q >> 4) & 1) << k);
                        }
                        else if (six)
                        {
                            planes[(64 * c) + (32 * (k >> 2)) + p] |= (byte)((q >> 4) << (2 * (k & 3)));
                        }
                    }
                }
            }

            for (var j = 0; j < 16; j++)
            {
                // Q6_K: one int8 scale per 16 columns. Q4_K/Q5_K: 6-bit scales per 32 columns (indices 0..7), mins after (8..15).
                scales[(j * RowsPerGroup) + r] = (byte)(six ? scale16[j] : j < 8 ? scale16[2 * j] : min16[2 * (j - 8)]);
            }

            floats[r] = d;
            floats[RowsPerGroup + r] = six ? 32 * d : m;
        }
    }
}
