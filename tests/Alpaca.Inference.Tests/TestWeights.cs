using Alpaca.Inference.Kernels;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests;

/// <summary>Random weight matrices and activations, encoded with the formats library's reference quantizers.</summary>
internal static unsafe class TestWeights
{
    public static float[] Gaussian(int n, int seed, float std = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (var i = 0; i < n; i++)
        {
            // Box–Muller; a few large outliers make the quantizers' amax logic matter.
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            v[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            if (rng.Next(97) == 0)
            {
                v[i] *= 6;
            }
        }

        return v;
    }

    /// <summary>A matrix of the given type whose bytes live in a native buffer owned by the matrix.</summary>
    public static WeightMatrix Matrix(GgmlType type, int rows, int columns, int seed)
    {
        if (GgmlTypeInfo.IsKQuant(type))
        {
            return KQuantMatrix(type, rows, columns, seed);
        }

        var values = Gaussian(rows * columns, seed, 0.05f);
        var rowBytes = GgmlTypeInfo.RowBytes(type, columns);
        var buffer = new NativeBuffer(rowBytes * rows);
        for (var r = 0; r < rows; r++)
        {
            Quantizer.Quantize(type, values.AsSpan(r * columns, columns), buffer.AsSpan<byte>(r * rowBytes, (int)rowBytes));
        }

        return new OwnedMatrix(type, rows, columns, buffer).Matrix;
    }

    /// <summary>
    /// K-quant weights as random bytes (every bit pattern of quants, scales and mins is a valid block)
    /// with sane fp16 super-block scales, so products stay in a range float represents well.
    /// </summary>
    public static WeightMatrix KQuantMatrix(GgmlType type, int rows, int columns, int seed)
    {
        var rowBytes = GgmlTypeInfo.RowBytes(type, columns);
        var buffer = new NativeBuffer(rowBytes * rows);
        var bytes = buffer.AsSpan<byte>(0, (int)(rowBytes * rows));
        var rng = new Random(seed);
        rng.NextBytes(bytes);
        var blockBytes = GgmlTypeInfo.Of(type).BytesPerBlock;
        int[] scaleAt = type switch
        {
            GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
            GgmlType.Q6_K => [208],
            GgmlType.Q3_K => [108],
            GgmlType.Q2_K => [80, 82],
            _ => throw new ArgumentException($"{type} is not a K-quant."),
        };
        for (var b = 0; b < bytes.Length; b += blockBytes)
        {
            foreach (var o in scaleAt)
            {
                var h = BitConverter.HalfToUInt16Bits((Half)(0.002f + (0.01f * (float)rng.NextDouble())));
                bytes[b + o] = (byte)h;
                bytes[b + o + 1] = (byte)(h >> 8);
            }
        }

        return new OwnedMatrix(type, rows, columns, buffer).Matrix;
    }

    private sealed class OwnedMatrix
    {
        public OwnedMatrix(GgmlType type, int rows, int columns, NativeBuffer buffer)
        {
            Buffer = buffer;
            Matrix = new WeightMatrix($"test.{type}.{rows}x{columns}", type, rows, columns, buffer.Pointer, this);
        }

        public NativeBuffer Buffer { get; }

        public WeightMatrix Matrix { get; }
    }
}
