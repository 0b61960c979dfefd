using Alpaca.Dedup.Rouge;
using BenchmarkDotNet.Attributes;

namespace Alpaca.Dedup.Benchmarks;

/// <summary>LCS of one candidate against 64 pool-like sequences: the reference table against the bit-parallel kernel.</summary>
[MemoryDiagnoser]
public class LcsBenchmarks
{
    private int[] _x = [];
    private int[][] _ys = [];
    private readonly CandidateMasks _masks = new();

    /// <summary>Tokens per side: a typical instruction (10), the p99 (22), one full word (64), multi-word (200).</summary>
    [Params(10, 22, 64, 200)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _x = Enumerable.Range(0, Length).Select(_ => random.Next(40)).ToArray();
        _ys = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, Length).Select(_ => random.Next(40)).ToArray()).ToArray();
        _masks.Load(_x, 40);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 64)]
    public int Reference()
    {
        var sum = 0;
        foreach (var y in _ys)
        {
            sum += Lcs.Reference(_x, y);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = 64)]
    public int BitParallel()
    {
        var sum = 0;
        foreach (var y in _ys)
        {
            sum += _masks.Lcs(y);
        }

        return sum;
    }
}
