using System.Diagnostics;
using Alpaca.Inference.Benchmarking;

namespace Alpaca.Inference.Tests.Benchmarking;

public class ProcessCpuClockTests
{
    [Fact]
    public void Counts_this_threads_busy_time_and_not_sleep()
    {
        var start = ProcessCpuClock.Seconds();
        Thread.Sleep(200);
        var slept = ProcessCpuClock.Seconds() - start;

        var busyStart = ProcessCpuClock.Seconds();
        var sw = Stopwatch.StartNew();
        var x = 0.0;
        while (sw.Elapsed.TotalMilliseconds < 100)
        {
            x += Math.Sqrt(x + 1);
        }

        var busy = ProcessCpuClock.Seconds() - busyStart;
        Assert.True(x > 0);
        // Other threads of the test host may run meanwhile; sleeping costs far less than spinning, and a
        // 100 ms spin is at least a few ms of CPU even on a crowded machine, at sub-tick resolution.
        Assert.True(busy > 0.005, $"busy loop: {busy} s of CPU");
        Assert.True(slept < busy + 0.15, $"sleep: {slept} s of CPU, busy loop {busy} s");
    }
}
