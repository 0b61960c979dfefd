using System.Text.Json;
using Alpaca.Dedup.Pool;
using Alpaca.TestSupport;
using BenchmarkDotNet.Attributes;

namespace Alpaca.Dedup.Benchmarks;

/// <summary>
/// One candidate checked against a pool of real Alpaca instructions: the exact max F and argmax through the
/// index, and the Alpaca extras (every pair scored). Reads the shared data by path.
/// </summary>
public class CandidateCheckBenchmarks
{
    private DedupPool _pool = null!;
    private string[] _candidates = [];
    private int _next;

    [Params(1_000, 20_000, 50_000)]
    public int PoolSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(RepoPaths.Data("alpaca_data.json")));
        var all = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("instruction").GetString()!).ToArray();
        _pool = new DedupPool(all.Take(PoolSize));
        _candidates = all.Skip(PoolSize).Take(1000).ToArray();
    }

    [Benchmark]
    public double Check() => _pool.Check(_candidates[_next++ % _candidates.Length]).MaxF;

    [Benchmark]
    public double CheckWithExtras() => _pool.Check(_candidates[_next++ % _candidates.Length], withExtras: true).MaxF;
}
