using System.Text.Json;
using Alpaca.Dedup.Pool;
using BenchmarkDotNet.Attributes;

namespace Alpaca.Dedup.Benchmarks;

/// <summary>
/// One candidate checked against a pool of real Alpaca instructions (exact max F and argmax).
/// Reads ../shared/data (or ALPACA_SHARED_DATA) by path.
/// </summary>
public class CandidateCheckBenchmarks
{
    private DedupPool _pool = null!;
    private string[] _candidates = [];
    private int _next;

    [Params(1_000, 20_000)]
    public int PoolSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dir = Environment.GetEnvironmentVariable("ALPACA_SHARED_DATA") ?? FindShared();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "alpaca_data.json")));
        var all = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("instruction").GetString()!).ToArray();
        _pool = new DedupPool(all.Take(PoolSize));
        _candidates = all.Skip(PoolSize).Take(1000).ToArray();
    }

    [Benchmark]
    public double CheckOne() => _pool.Check(_candidates[_next++ % _candidates.Length]).MaxF;

    [Benchmark]
    public double CheckOneWithExtras() => _pool.Check(_candidates[_next++ % _candidates.Length], withExtras: true).MaxF;

    private static string FindShared()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "shared", "data")))
        {
            dir = dir.Parent;
        }

        return dir is null ? throw new DirectoryNotFoundException("shared/data not found; set ALPACA_SHARED_DATA") : Path.Combine(dir.FullName, "shared", "data");
    }
}
