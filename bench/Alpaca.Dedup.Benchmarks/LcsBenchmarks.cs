using Alpaca.Dedup.Rouge;
using BenchmarkDotNet.Attributes;

namespace Alpaca.Dedup.Benchmarks;

/// <summary>LCS of instruction-sized sequences: the reference table against the bit-parallel kernel.</summary>
[MemoryDiagnoser]
public class LcsBenchmarks
{
    private int[] _x = [];
    private int[] _y = [];
    private LcsMasks _masks = null!;

    /// <summary>Tokens per side: a typical instruction (10), the p99 (22), one word (64), multi-word (200).</summary>
    [Params(10, 22, 64, 200)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _x = Enumerable.Range(0, Length).Select(_ => random.Next(40)).ToArray();
        _y = Enumerable.Range(0, Length).Select(_ => random.Next(40)).ToArray();
        _masks = new LcsMasks(_x);
    }

    [Benchmark(Baseline = true)]
    public int Reference() => Lcs.Reference(_x, _y);

    [Benchmark]
    public int BitParallel() => _masks.Lcs(_y);
}
