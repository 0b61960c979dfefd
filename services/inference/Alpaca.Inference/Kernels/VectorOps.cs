using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The element-wise parts of the forward pass, vectorised with the cross-platform <c>Vector256</c> API
/// (AVX2 on x86, two NEON registers on ARM). Scalar definitions: <see cref="ReferenceOps"/>.
/// </summary>
public static unsafe class VectorOps
{
    private const int W = 8; // Vector256<float>.Count

    /// <summary>
    /// out = x / sqrt(mean(x²) + eps) · gain, as ggml's rms_norm then mul: the squares (float) are summed
    /// in double, mean and scale are float, and out = (x·scale)·gain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(float* x, float* gain, float* output, int n, float eps)
    {
        var acc = Vector256<double>.Zero;
        var i = 0;
        for (; i + W <= n; i += W)
        {
            var v = Vector256.Load(x + i);
            var p = v * v;
            acc += Vector256.WidenLower(p) + Vector256.WidenUpper(p);
        }

        var ss = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            ss += x[i] * x[i];
        }

        var mean = (float)(ss / n);
        var scale = 1f / MathF.Sqrt(mean + eps);
        var s = Vector256.Create(scale);
        i = 0;
        for (; i + W <= n; i += W)
        {
            (Vector256.Load(x + i) * s * Vector256.Load(gain + i)).Store(output + i);
        }

        for (; i < n; i++)
        {
            output[i] = x[i] * scale * gain[i];
        }
    }

    /// <summary>x += y.</summary>
    public static void Add(float* x, float* y, int n)
    {
        var i = 0;
        for (; i + W <= n; i += W)
        {
            (Vector256.Load(x + i) + Vector256.Load(y + i)).Store(x + i);
        }

        for (; i < n; i++)
        {
            x[i] += y[i];
        }
    }

    /// <summary>out = silu(gate) · up, silu(g) = g / (1 + e^−g) (SwiGLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiluMul(float* gate, float* up, float* output, int n)
    {
        var one = Vector256.Create(1f);
        var i = 0;
        for (; i + W <= n; i += W)
        {
            var g = Vector256.Load(gate + i);
            (g / (one + Vector256.Exp(-g)) * Vector256.Load(up + i)).Store(output + i);
        }

        for (; i < n; i++)
        {
            output[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
        }
    }

    /// <summary>In-place softmax of x[0..n): exponentials in float, their sum in double (as ggml's soft_max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(float* x, int n)
    {
        var max = float.NegativeInfinity;
        for (var j = 0; j < n; j++)
        {
            max = MathF.Max(max, x[j]);
        }

        var m = Vector256.Create(max);
        var acc = Vector256<double>.Zero;
        var i = 0;
        for (; i + W <= n; i += W)
        {
            var e = Vector256.Exp(Vector256.Load(x + i) - m);
            e.Store(x + i);
            acc += Vector256.WidenLower(e) + Vector256.WidenUpper(e);
        }

        var sum = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }

        Scale(x, (float)(1.0 / sum), n);
    }

    public static void Scale(float* x, float s, int n)
    {
        var v = Vector256.Create(s);
        var i = 0;
        for (; i + W <= n; i += W)
        {
            (Vector256.Load(x + i) * v).Store(x + i);
        }

        for (; i < n; i++)
        {
            x[i] *= s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + W <= n; i += W)
        {
            acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
        }

        var s = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    /// <summary>y += a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, float* x, float* y, int n)
    {
        var va = Vector256.Create(a);
        var i = 0;
        for (; i + W <= n; i += W)
        {
            Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }

        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>Σ a[i]·b[i] with b in fp16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotHalf(float* a, ushort* b, int n)
    {
        var i = 0;
        var s = 0f;
        if (Avx2.IsSupported)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), HalfVectors.HalfToFloat(Vector128.Load(b + i)), acc);
            }

            s = Vector256.Sum(acc);
        }

        for (; i < n; i++)
        {
            s += a[i] * HalfVectors.HalfToFloat(b[i]);
        }

        return s;
    }

    /// <summary>y += a·x with x in fp16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AxpyHalf(float a, ushort* x, float* y, int n)
    {
        var i = 0;
        if (Avx2.IsSupported)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8)
            {
                Vector256.FusedMultiplyAdd(va, HalfVectors.HalfToFloat(Vector128.Load(x + i)), Vector256.Load(y + i)).Store(y + i);
            }
        }

        for (; i < n; i++)
        {
            y[i] += a * HalfVectors.HalfToFloat(x[i]);
        }
    }

    /// <summary>
    /// Rotary embedding, GGUF/llama.cpp "normal" mode: in each head, pair (2i, 2i+1) turns by
    /// pos·θ_i for i &lt; rotDim/2; cos/sin hold the per-pair values for this position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rope(float* v, int heads, int headDim, int rotDim, float* cos, float* sin)
    {
        for (var h = 0; h < heads; h++)
        {
            var p = v + h * headDim;
            for (var i = 0; i < rotDim / 2; i++)
            {
                float a = p[2 * i], b = p[2 * i + 1], c = cos[i], s = sin[i];
                p[2 * i] = a * c - b * s;
                p[2 * i + 1] = a * s + b * c;
            }
        }
    }
}
