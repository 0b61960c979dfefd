using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Tests.Threading;

public class WorkerPoolTests
{
    private sealed class CountingWork(int chunks) : IParallelWork
    {
        public readonly int[] Runs = new int[Math.Max(chunks, 1)];
        public readonly int[] ByThread = new int[8];

        public int Chunks => chunks;

        public void Execute(int chunk, int thread)
        {
            Interlocked.Increment(ref Runs[chunk]);
            Interlocked.Increment(ref ByThread[thread]);
            Thread.SpinWait(200);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Every_chunk_runs_exactly_once_in_every_step(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (var chunks in new[] { 0, 1, 2, 3, 7, 64, 1000 })
        {
            for (var step = 0; step < 20; step++)
            {
                var work = new CountingWork(chunks);
                pool.Run(work);
                Assert.All(work.Runs.Take(chunks), n => Assert.Equal(1, n));
                Assert.Equal(chunks, work.ByThread.Sum());
                Assert.True(work.ByThread.Skip(threads).All(n => n == 0), "a thread index beyond the pool was used");
            }
        }
    }

    [Fact]
    public void Workers_take_part_and_wake_up_after_sleeping()
    {
        using var pool = new WorkerPool(2, spinMicroseconds: 10);
        var helped = 0;
        for (var attempt = 0; attempt < 50 && helped == 0; attempt++)
        {
            Thread.Sleep(20); // long past the spin budget: the worker is blocked on its monitor
            var work = new CountingWork(2000);
            pool.Run(work);
            Assert.All(work.Runs, n => Assert.Equal(1, n));
            helped = work.ByThread[1];
        }

        Assert.True(helped > 0, "the background worker never executed a chunk");
    }

    [Fact]
    public void A_failing_chunk_surfaces_and_the_pool_keeps_working()
    {
        using var pool = new WorkerPool(2);
        var failing = new FailingWork();
        var e = Assert.Throws<AggregateException>(() => pool.Run(failing));
        Assert.Contains("chunk 13", e.InnerException!.Message);
        var work = new CountingWork(100);
        pool.Run(work);
        Assert.All(work.Runs, n => Assert.Equal(1, n));
    }

    [Fact]
    public void Work_split_covers_the_range_without_overlap()
    {
        foreach (var (count, threads, granule) in new[] { (100, 3, 1), (7, 4, 1), (1000, 2, 32), (5, 8, 1), (0, 2, 1) })
        {
            var covered = new int[count];
            for (var t = 0; t < threads; t++)
            {
                var (s, e) = WorkSplit.Range(count, t, threads, granule);
                Assert.True(s % granule == 0 || s == count);
                for (var i = s; i < e; i++)
                {
                    covered[i]++;
                }
            }

            Assert.All(covered, c => Assert.Equal(1, c));
        }
    }

    private sealed class FailingWork : IParallelWork
    {
        public int Chunks => 50;

        public void Execute(int chunk, int thread)
        {
            if (chunk == 13)
            {
                throw new InvalidOperationException("chunk 13 failed");
            }
        }
    }
}
