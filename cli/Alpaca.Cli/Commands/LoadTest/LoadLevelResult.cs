namespace Alpaca.Cli.Commands.LoadTest;

/// <summary>What one concurrency level measured.</summary>
public sealed record LoadLevelResult(
    int Concurrency,
    int Requests,
    int Errors,
    IReadOnlyDictionary<string, int> ErrorsByStatus,
    long Tokens,
    TimeSpan Wall,
    IReadOnlyList<double> TimeToFirstTokenMs,
    IReadOnlyList<double> InterTokenMs)
{
    /// <summary>Generated tokens of all streams per second of wall time.</summary>
    public double TokensPerSecond => Tokens / Math.Max(Wall.TotalSeconds, 1e-9);

    /// <summary>Nearest-rank percentile (0 when there are no samples).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
