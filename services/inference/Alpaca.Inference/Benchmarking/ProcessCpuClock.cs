using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Alpaca.Inference.Benchmarking;

/// <summary>
/// CPU time of this process (user + system, all threads) in seconds. On Linux
/// <c>clock_gettime(CLOCK_PROCESS_CPUTIME_ID)</c>, nanosecond resolution: <see cref="Process.TotalProcessorTime"/>
/// reads /proc/self/stat in 10 ms clock ticks, too coarse for a 40 ms prompt of the 15M model.
/// </summary>
public static partial class ProcessCpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    public static double Seconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockProcessCpuTimeId, out var ts) == 0)
        {
            return ts.Seconds + (ts.Nanoseconds * 1e-9);
        }

        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>
    /// CPU time of the calling thread in nanoseconds (<c>CLOCK_THREAD_CPUTIME_ID</c>), or −1 where that clock
    /// is not available: time the thread was descheduled does not count, so on a shared machine a
    /// one-thread profile says what each part costs, not how busy the neighbours were.
    /// </summary>
    public static long ThreadNanoseconds() =>
        OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTimeId, out var ts) == 0 ? (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds : -1;

    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
