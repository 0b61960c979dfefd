using System.Text.Json;
using Alpaca.Dedup.Batch;
using Alpaca.TestSupport;
using BenchmarkDotNet.Attributes;

namespace Alpaca.Dedup.Benchmarks;

/// <summary>The whole greedy batch over the first N Alpaca instructions, seeded with the 175 seed tasks.</summary>
public class BatchBenchmarks
{
    private List<string> _seeds = [];
    private List<string> _candidates = [];

    [Params(10_000, 52_002)]
    public int Candidates { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _seeds = File.ReadLines(RepoPaths.Data("seed_tasks.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("instruction").GetString()!).ToList();
        using var doc = JsonDocument.Parse(File.ReadAllText(RepoPaths.Data("alpaca_data.json")));
        _candidates = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("instruction").GetString()!).Take(Candidates).ToList();
    }

    [Benchmark]
    public int Decisions() => GreedyDedup.Run(_seeds, _candidates, new GreedyDedupOptions(Threads: Threads)).Pool.Count;
}
