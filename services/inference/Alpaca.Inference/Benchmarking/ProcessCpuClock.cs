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

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
