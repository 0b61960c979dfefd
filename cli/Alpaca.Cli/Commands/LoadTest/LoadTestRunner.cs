using System.Collections.Concurrent;
using System.Diagnostics;
using Alpaca.Contracts.V1;
using Grpc.Core;

namespace Alpaca.Cli.Commands.LoadTest;

/// <summary>
/// Drives real gRPC <c>Generate</c> streams: <c>concurrency</c> clients each send one request after another
/// for the duration (requests in flight at the end still finish and count). Time to first token is
/// submission → first delta with a token; inter-token latency is the gap between deltas divided over the
/// tokens they carry (a delta may bring several when the reader falls behind).
/// </summary>
public sealed class LoadTestRunner(InferenceService.InferenceServiceClient client, Func<GenerateRequest> request)
{
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
                    using var call = client.Generate(request(), cancellationToken: cancellationToken);
                    await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
                    {
                        if (message.EventCase != GenerateResponse.EventOneofCase.Delta || message.Delta.Tokens.Count == 0)
                        {
                            continue;
                        }

                        var now = Stopwatch.GetTimestamp();
                        var count = message.Delta.Tokens.Count;
                        if (last == 0)
                        {
                            ttft.Add(Stopwatch.GetElapsedTime(start, now).TotalMilliseconds);
                            count--;
                        }
                        else
                        {
                            var gap = Stopwatch.GetElapsedTime(last, now).TotalMilliseconds / count;
                            for (var i = 0; i < count; i++)
                            {
                                itl.Add(gap);
                            }
                        }

                        Interlocked.Add(ref tokens, message.Delta.Tokens.Count);
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
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Client, cancellationToken)));
        wall.Stop();
        return new LoadLevelResult(concurrency, requests, errors.Values.Sum(), errors, tokens, wall.Elapsed, [.. ttft], [.. itl]);
    }
}
