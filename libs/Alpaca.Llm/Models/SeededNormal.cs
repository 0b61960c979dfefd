using System.Text;

namespace Alpaca.Llm.Models;

/// <summary>
/// Reproducible N(0, σ²) numbers for the tiny-model factory: SplitMix64 seeded by (seed, tensor name)
/// and the Box–Muller transform. Independent of .NET's Random, so files are identical across runtimes
/// and a tensor's values do not depend on which other tensors were generated first.
/// </summary>
internal sealed class SeededNormal(int seed, string name)
{
    private ulong _state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ Fnv1a(name);
    private double _spare;
    private bool _hasSpare;

    public void Fill(Span<float> values, float mean, float std)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = mean + (std * (float)Next());
        }
    }

    public double Next()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        double u1, u2;
        do
        {
            u1 = Uniform();
        }
        while (u1 <= double.Epsilon);

        u2 = Uniform();
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    private double Uniform() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv1a(string s)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
