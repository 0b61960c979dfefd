using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;

namespace Alpaca.Cli.Commands.LoadTest;

/// <summary>
/// Drives generation streams: <c>concurrency</c> clients each send one request after another for the
/// duration (requests in flight at the end still finish and count). Time to first token is submission →
/// first timed delta; inter-token latency is the gap between timed deltas divided over the tokens they carry
/// (a delta may bring several when the reader falls behind). The transport (gRPC or OpenAI HTTP) is
/// <paramref name="stream"/>: request number → its deltas.
/// </summary>
public sealed class LoadTestRunner(Func<int, CancellationToken, IAsyncEnumerable<StreamDelta>> stream)
{
    private int _sequence;

    public async Task<LoadLevelResult> RunAsync(int concurrency, TimeSpan duration, int minRequestsPerClient, CancellationToken cancellationToken)
    {
        var ttft = new ConcurrentBag<double>();
        var itl = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>();
        long tokens = 0;
        var requests = 0;
        var wall = Stopwatch.StartNew();

        async Task Client()
        {
            for (var sent = 0; sent < minRequestsPerClient || wall.Elapsed < duration; sent++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Interlocked.Increment(ref requests);
                var start = Stopwatch.GetTimestamp();
                long last = 0;
                try
                {
                    await foreach (var delta in stream(Interlocked.Increment(ref _sequence), cancellationToken))
                    {
                        Interlocked.Add(ref tokens, delta.Tokens);
                        if (!delta.Timed || delta.Tokens == 0)
                        {
                            continue;
                        }

                        var now = Stopwatch.GetTimestamp();
                        if (last == 0)
                        {
                            // Further tokens in the first delta have no gap of their own.
                            ttft.Add(Stopwatch.GetElapsedTime(start, now).TotalMilliseconds);
                        }
                        else
                        {
                            var gap = Stopwatch.GetElapsedTime(last, now).TotalMilliseconds / delta.Tokens;
                            for (var i = 0; i < delta.Tokens; i++)
                            {
                                itl.Add(gap);
                            }
                        }

                        last = now;
                    }
                }
                catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    errors.AddOrUpdate(ex.StatusCode.ToString(), 1, (_, n) => n + 1);
                    if (ex.StatusCode == StatusCode.ResourceExhausted)
                    {
                        await Task.Delay(100, cancellationToken);
                    }
                }
                catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    errors.AddOrUpdate(ex.StatusCode is { } code ? $"HTTP {(int)code}" : "HTTP transport", 1, (_, n) => n + 1);
                    if (ex.StatusCode == System.Net.HttpStatusCode.TooManyRequests)
                    {
                        await Task.Delay(100, cancellationToken);
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Client, cancellationToken)));
        wall.Stop();
        return new LoadLevelResult(concurrency, requests, errors.Values.Sum(), errors, tokens, wall.Elapsed, [.. ttft], [.. itl]);
    }
}

/// <summary>
/// Tokens one stream message brought. <see cref="Timed"/> is false for a count that arrives without its own
/// moment (an OpenAI usage chunk correcting the per-chunk count): counted in the total, not in latencies.
/// </summary>
public readonly record struct StreamDelta(int Tokens, bool Timed = true);
