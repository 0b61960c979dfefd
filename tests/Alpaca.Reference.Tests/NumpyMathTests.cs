using Alpaca.Reference.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Reference.Tests;

/// <summary>
/// <c>np.sum</c> and <c>np.mean</c> against numpy's own, bit for bit, for float64 and float32 arrays of every
/// length 0…1000 (across the 8-wide unroll and the 128-element blocks) and long ones around numpy's
/// 8192-element buffer, as the Alpaca pool grows past it.
/// </summary>
public sealed class NumpyMathTests
{
    private static List<int> Lengths() => [.. Enumerable.Range(0, 1001), 1023, 1024, 1025, 4095, 8191, 8192, 8193, 16383, 16384, 16385, 24577, 52002];

    /// <summary>Scores in [0, 1] as dedup produces, values of mixed sign and magnitude (where order shows most), and all negative zeros.</summary>
    private static List<double[]> Arrays(int seed)
    {
        var random = new Random(seed);
        var arrays = new List<double[]>();
        foreach (var n in Lengths())
        {
            arrays.Add([.. Enumerable.Range(0, n).Select(_ => random.NextDouble())]);
            arrays.Add([.. Enumerable.Range(0, n).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9)))]);
        }

        arrays.Add([.. Enumerable.Repeat(-0.0, 5)]);
        arrays.Add([.. Enumerable.Repeat(-0.0, 9)]);
        arrays.Add([.. Enumerable.Repeat(-0.0, 300)]);
        arrays.Add([1e308, 1e308, -1e308, 1, 2, 3, 4, 5, 6]);
        arrays.Add([.. Enumerable.Repeat(0.1, 1000)]);
        return arrays;
    }

    private const string Script = """
        import numpy as np
        dtype = np.dtype(lines[0])
        out = f_out if dtype == np.float32 else d_out
        for line in lines[1:]:
            width = dtype.itemsize * 2
            a = np.array([struct.unpack('>' + dtype.char, bytes.fromhex(line[i:i + width]))[0] for i in range(0, len(line), width)], dtype=dtype)
            with np.errstate(all='ignore'):
                emit(out(np.sum(a)) + ' ' + out(np.mean(a)))
        """;

    [Fact]
    public void Float64_sum_and_mean_equal_numpys()
    {
        var arrays = Arrays(1);
        var python = Python.Run(Script, ["float64", .. arrays.Select(a => string.Concat(a.Select(Python.Hex)))]);
        Mismatches.AssertNone(arrays, python, a => Python.Hex(NumpyMath.Sum<double>(a)) + " " + Python.Hex(NumpyMath.Mean<double>(a)), a => $"length {a.Length}");
    }

    [Fact]
    public void Float32_sum_and_mean_equal_numpys()
    {
        var arrays = Arrays(2).Select(a => a.Select(x => (float)x).ToArray()).ToList();
        var python = Python.Run(Script, ["float32", .. arrays.Select(a => string.Concat(a.Select(Python.Hex)))]);
        Mismatches.AssertNone(arrays, python, a => Python.Hex(NumpyMath.Sum<float>(a)) + " " + Python.Hex(NumpyMath.Mean<float>(a)), a => $"length {a.Length}");
    }

    [Fact]
    public void Mean_of_a_python_list_is_what_self_instruct_computes()
    {
        // avg_similarity_score = float(np.mean(rouge_scores)) with rouge_scores a Python list of floats.
        var random = new Random(3);
        var lists = Lengths().Where(n => n > 0).Select(n => Enumerable.Range(0, n).Select(_ => Math.Round(random.NextDouble(), random.Next(1, 16))).ToArray()).ToList();
        var python = Python.Run("""
            import numpy as np
            for line in lines: emit(d_out(float(np.mean([d_in(line[i:i + 16]) for i in range(0, len(line), 16)]))))
            """, lists.Select(a => string.Concat(a.Select(Python.Hex))));
        Mismatches.AssertNone(lists, python, a => Python.Hex(NumpyMath.Mean<double>(a)), a => $"length {a.Length}");
    }
}
