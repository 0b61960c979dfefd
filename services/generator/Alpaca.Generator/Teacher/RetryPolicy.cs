namespace Alpaca.Generator.Teacher;

/// <summary>
/// When to try a failed request again: exponential back-off with full jitter (a uniform draw in
/// [0, min(cap, base·2^attempt)], so many clients that failed together do not retry together), unless the
/// server said when (<c>Retry-After</c> / <c>retry-after-ms</c>), which is honoured as given up to a ceiling.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>Retries after the first attempt (so MaxRetries + 1 attempts in all).</summary>
    public int MaxRetries { get; init; } = 6;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest server-requested wait honoured (a bad header must not park the run for hours).</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The wait before retry number <paramref name="attempt"/> (0-based).</summary>
    public TimeSpan Delay(int attempt, TimeSpan? retryAfter, Random random)
    {
        if (retryAfter is { } serverSaid)
        {
            return serverSaid < TimeSpan.Zero ? TimeSpan.Zero : serverSaid > MaxRetryAfter ? MaxRetryAfter : serverSaid;
        }

        var ceiling = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        ceiling = Math.Min(ceiling, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(random.NextDouble() * ceiling);
    }
}
