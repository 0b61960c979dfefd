using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Benchmarking;

/// <summary>
/// A streaming read probe: every thread sums its share of a large buffer with 256-bit integer adds
/// (the same kind of probe as the one behind the llama.cpp figures in the docs). Best of several passes,
/// GB = 10⁹ bytes. Decode speed can not exceed this bandwidth ÷ bytes per token.
/// </summary>
public static unsafe class MemoryBandwidth
{
    public static double MeasureReadGBps(int threads, long bytes = 1L << 30, int passes = 6)
    {
        using var buffer = new NativeBuffer(bytes);
        // Touch every page first so the probe measures DRAM, not page faults.
        new Span<byte>(buffer.Pointer, (int)Math.Min(bytes, int.MaxValue)).Fill(1);
        if (bytes > int.MaxValue)
        {
            new Span<byte>(buffer.Pointer + int.MaxValue, (int)(bytes - int.MaxValue)).Fill(1);
        }

        using var pool = new WorkerPool(threads, spinMicroseconds: 50);
        var job = new SumJob(buffer.Pointer, bytes, threads);
        var best = double.MaxValue;
        for (var p = 0; p < passes; p++)
        {
            var sw = Stopwatch.StartNew();
            pool.Run(job);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        GC.KeepAlive(job.Sink);
        return bytes / best / 1e9;
    }

    private sealed class SumJob(byte* data, long bytes, int threads) : IParallelWork
    {
        public long Sink;

        public int Chunks => 64 * threads;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int thread)
        {
            var vectors = bytes / 32;
            var (start, end) = WorkSplit.Range((int)Math.Min(vectors / 8, int.MaxValue), chunk, 64 * threads);
            var p = (Vector256<long>*)data;
            Vector256<long> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = (long)start * 8; i < (long)end * 8; i += 8)
            {
                a0 += p[i] + p[i + 1];
                a1 += p[i + 2] + p[i + 3];
                a2 += p[i + 4] + p[i + 5];
                a3 += p[i + 6] + p[i + 7];
            }

            Interlocked.Add(ref Sink, Vector256.Sum(a0 + a1 + a2 + a3));
        }
    }
}
