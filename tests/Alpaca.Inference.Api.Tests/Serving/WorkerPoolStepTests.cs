using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Api.Tests.Serving;

/// <summary>
/// Regression test for the engine's worker pool under the scheduler's pattern: back-to-back steps with
/// different chunk counts while workers arrive late. A late worker used to claim a chunk past the end of
/// the previous step, count it in the next step's done counter, and leave the caller spinning for ever.
/// </summary>
public sealed class WorkerPoolStepTests
{
    private sealed class CountingWork : IParallelWork
    {
        private int[] _hits = new int[16];

        public int Chunks { get; private set; }

        public void Reset(int chunks)
        {
            Chunks = chunks;
            Array.Clear(_hits);
        }

        public void Execute(int chunk, int thread)
        {
            Interlocked.Increment(ref _hits[chunk]);
            if ((chunk & 3) == 1)
            {
                Thread.Yield(); // let the other threads run late
            }
        }

        public bool EachChunkOnce() => _hits.AsSpan(0, Chunks).IndexOfAnyExcept(1) < 0 && _hits.AsSpan(Chunks).IndexOfAnyExcept(0) < 0;
    }

    [Fact]
    public async Task Steps_with_changing_chunk_counts_each_run_every_chunk_exactly_once_and_never_hang()
    {
        using var pool = new WorkerPool(threadCount: 3, spinMicroseconds: 5);
        var works = new[] { new CountingWork(), new CountingWork() };
        var run = Task.Run(() =>
        {
            for (var step = 0; step < 60_000; step++)
            {
                var work = works[step & 1];
                work.Reset((step % 7) + 2);
                pool.Run(work);
                Assert.True(work.EachChunkOnce(), $"step {step}: a chunk ran twice, or one past the end");
            }
        });
        await run.WaitAsync(TimeSpan.FromSeconds(60));
    }
}
