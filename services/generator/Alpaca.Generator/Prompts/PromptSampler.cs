using Alpaca.Generator.Seeds;

namespace Alpaca.Generator.Prompts;

/// <summary>
/// Picks the in-context examples of each prompt: <c>random.sample(seeds, k)</c>, i.e. k distinct seeds.
/// The choice for (round, prompt) depends only on the run's seed and those two numbers, so a resumed run
/// asks for the very prompts it would have asked for, and the same seed gives the same prompts.
/// (The reference used Python's global, unseeded generator; its exact draws are not reproducible anyway.)
/// </summary>
public sealed class PromptSampler
{
    private readonly IReadOnlyList<SeedTask> _seeds;
    private readonly int _perPrompt;
    private readonly ulong _seed;

    public PromptSampler(IReadOnlyList<SeedTask> seeds, int perPrompt, ulong seed)
    {
        if (perPrompt < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(perPrompt), perPrompt, "At least one example per prompt is needed.");
        }

        if (seeds.Count < perPrompt)
        {
            throw new GeneratorInputException($"{perPrompt} examples per prompt need at least {perPrompt} seed tasks; {seeds.Count} given.");
        }

        (_seeds, _perPrompt, _seed) = (seeds, perPrompt, seed);
    }

    /// <summary>The examples for one prompt, in prompt order.</summary>
    public IReadOnlyList<SeedTask> Sample(long round, int prompt)
    {
        var rng = new SplitMix64(Mix(_seed, (ulong)round, (ulong)prompt));

        // Partial Fisher–Yates over an index array: k distinct picks, uniformly, in draw order.
        var indices = new int[_seeds.Count];
        for (var i = 0; i < indices.Length; i++)
        {
            indices[i] = i;
        }

        var picked = new SeedTask[_perPrompt];
        for (var i = 0; i < _perPrompt; i++)
        {
            var j = i + (int)rng.NextBelow((ulong)(indices.Length - i));
            (indices[i], indices[j]) = (indices[j], indices[i]);
            picked[i] = _seeds[indices[i]];
        }

        return picked;
    }

    private static ulong Mix(ulong seed, ulong round, ulong prompt)
    {
        var state = new SplitMix64(seed);
        var a = state.Next() ^ round;
        var b = new SplitMix64(a).Next() ^ prompt;
        return new SplitMix64(b).Next();
    }

    /// <summary>SplitMix64 (Steele et al. 2014): tiny, fixed forever, unlike an unspecified library generator.</summary>
    private struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, bound) by rejection, without modulo bias.</summary>
        public ulong NextBelow(ulong bound)
        {
            var limit = ulong.MaxValue - (ulong.MaxValue % bound);
            ulong x;
            do
            {
                x = Next();
            }
            while (x >= limit);

            return x % bound;
        }
    }
}
