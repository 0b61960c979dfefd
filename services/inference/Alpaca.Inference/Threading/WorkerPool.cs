using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Alpaca.Inference.Threading;

/// <summary>
/// A fixed set of threads for the forward pass: the calling thread is thread 0 and
/// <c>threadCount − 1</c> background threads are the others, so N threads use N cores (size it to the
/// physical cores; no oversubscription, and no per-step task or delegate allocation, unlike
/// <c>Parallel.For</c>, whose per-call cost would dominate a tiny model's decode step).
/// <para>Chunks are claimed with a compare-and-swap on one 64-bit word holding (step epoch, next chunk),
/// and a step ends when its chunks are <i>done</i>, not when every thread has checked in. So a worker the
/// OS has descheduled (other processes on a 2-core machine) delays a step only if it is inside a chunk;
/// otherwise the caller simply does all the chunks, and the late worker finds nothing left. A barrier
/// that waits for every thread (OpenMP's, llama.cpp's) instead stalls for a whole scheduler slice.</para>
/// <para>Idle workers spin on the step counter for a short while (decode steps follow each other within
/// microseconds), then block on a monitor, so an idle engine uses no CPU.</para>
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly int _spinIterations;
    private IParallelWork? _work;
    private Counters _c;       // each hot counter on its own cache line
    private int _epoch;
    private int _total;
    private int _sleepers;
    private volatile bool _stopping;
    private Exception? _failure;

    /// <param name="threadCount">Total threads including the caller; 0 = <see cref="DefaultThreadCount"/>.</param>
    /// <param name="spinMicroseconds">How long an idle worker spins before it blocks.</param>
    public WorkerPool(int threadCount = 0, int spinMicroseconds = 300)
    {
        if (threadCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "Thread count must be ≥ 0 (0 = one per core).");
        }

        ThreadCount = threadCount == 0 ? DefaultThreadCount : threadCount;
        _spinIterations = CalibrateSpins(spinMicroseconds);
        _threads = new Thread[ThreadCount - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var index = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"alpaca-engine-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>One thread per logical processor the process may use (the machines we target have no SMT).</summary>
    public static int DefaultThreadCount => Environment.ProcessorCount;

    public int ThreadCount { get; }

    /// <summary>
    /// When true, <see cref="WaitTicks"/> sums the time the caller spends waiting, after it found no chunk
    /// left to claim, for chunks other threads still run (the cost of the step's barrier: load imbalance
    /// and descheduled workers). Off by default (two timestamps per step).
    /// </summary>
    public bool MeasureWait { get; set; }

    /// <summary><see cref="Stopwatch"/> ticks the caller waited (see <see cref="MeasureWait"/>); the caller may reset it.</summary>
    public long WaitTicks { get; set; }

    /// <summary>Runs every chunk of <paramref name="work"/> and returns when all are done. Not reentrant.</summary>
    public void Run(IParallelWork work)
    {
        var total = work.Chunks;
        if (total <= 0)
        {
            return;
        }

        if (ThreadCount == 1 || total == 1)
        {
            for (var c = 0; c < total; c++)
            {
                work.Execute(c, 0);
            }

            return;
        }

        // Close the claim word for the new epoch before touching _work, _total and Done: a late worker
        // still holding the previous epoch's exhausted claim (previous total) would otherwise see the new,
        // larger _total, claim one chunk past the old end, run it on the new work and count it in the
        // freshly reset Done — which then overshoots the total, and WaitUntilDone spins for ever (seen
        // under continuous batching: consecutive steps with different chunk counts, workers descheduled).
        var epoch = ++_epoch;
        Interlocked.Exchange(ref _c.Claim, ((long)epoch << 32) | int.MaxValue);
        _work = work;
        _total = total;
        Volatile.Write(ref _c.Done, 0);
        Interlocked.Exchange(ref _c.Claim, (long)epoch << 32);
        Interlocked.Increment(ref _c.Generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        ExecuteClaims(0, epoch);
        if (MeasureWait)
        {
            var waitStart = Stopwatch.GetTimestamp();
            WaitUntilDone(total);
            WaitTicks += Stopwatch.GetTimestamp() - waitStart;
        }
        else
        {
            WaitUntilDone(total);
        }

        if (_failure is { } failure)
        {
            _failure = null;
            throw new AggregateException("A parallel step failed.", failure);
        }
    }

    private void ExecuteClaims(int thread, int epoch)
    {
        while (true)
        {
            var v = Volatile.Read(ref _c.Claim);
            if ((int)(v >> 32) != epoch || (int)v >= _total)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _c.Claim, v + 1, v) != v)
            {
                continue;
            }

            // The claim succeeded within this epoch, so the step cannot end before this chunk is done:
            // _work and its parameters are stable until then.
            try
            {
                _work!.Execute((int)v, thread);
            }
            catch (Exception e)
            {
                _failure = e;
            }

            Interlocked.Increment(ref _c.Done);
        }
    }

    private void WaitUntilDone(int total)
    {
        var spins = 0;
        while (Volatile.Read(ref _c.Done) != total)
        {
            if (++spins < _spinIterations)
            {
                Thread.SpinWait(4);
            }
            else
            {
                // A worker holding a chunk was descheduled: let it run rather than burn the core.
                Thread.Yield();
            }
        }
    }

    private void WorkerLoop(int index)
    {
        var seen = 0;
        while (true)
        {
            seen = WaitForStep(seen);
            if (_stopping)
            {
                return;
            }

            ExecuteClaims(index, (int)(Volatile.Read(ref _c.Claim) >> 32));
        }
    }

    private int WaitForStep(int seen)
    {
        for (var i = 0; i < _spinIterations; i++)
        {
            var g = Volatile.Read(ref _c.Generation);
            if (g != seen || _stopping)
            {
                return g;
            }

            Thread.SpinWait(4);
        }

        lock (_gate)
        {
            // Announce the sleep before the last check: Run bumps the generation and then reads
            // _sleepers, so either we see the new generation here or Run sees us and pulses.
            Interlocked.Increment(ref _sleepers);
            try
            {
                while (Volatile.Read(ref _c.Generation) == seen && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _sleepers);
            }
        }

        return Volatile.Read(ref _c.Generation);
    }

    private static int CalibrateSpins(int microseconds)
    {
        // SpinWait(4) takes a CPU-dependent time; measure it once so the budget is in real time.
        var sw = Stopwatch.StartNew();
        const int probe = 4000;
        for (var i = 0; i < probe; i++)
        {
            Thread.SpinWait(4);
        }

        var perSpinUs = Math.Max(sw.Elapsed.TotalMicroseconds / probe, 0.001);
        return (int)Math.Clamp(microseconds / perSpinUs, 16, 10_000_000);
    }

    // The claim word is hit by every chunk claim, the done count by every finish, and the generation is
    // what idle workers spin on: sharing one cache line would make each of them invalidate the others.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Counters
    {
        [FieldOffset(0)]
        public long Claim;      // (epoch << 32) | next chunk

        [FieldOffset(64)]
        public int Done;

        [FieldOffset(128)]
        public int Generation;
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        foreach (var t in _threads)
        {
            t.Join();
        }
    }
}
