namespace Alpaca.Inference.Threading;

/// <summary>Static splits of an index range among threads.</summary>
public static class WorkSplit
{
    /// <summary>Thread <paramref name="thread"/>'s contiguous share of [0, count), in units of <paramref name="granule"/>.</summary>
    public static (int Start, int End) Range(int count, int thread, int threadCount, int granule = 1)
    {
        var units = (count + granule - 1) / granule;
        var per = units / threadCount;
        var extra = units % threadCount;
        var startUnit = thread * per + Math.Min(thread, extra);
        var endUnit = startUnit + per + (thread < extra ? 1 : 0);
        return (Math.Min(count, startUnit * granule), Math.Min(count, endUnit * granule));
    }
}
