namespace Alpaca.Inference.Model;

/// <summary>
/// The tokens of a forward chunk grouped by sequence: run r holds the chunk indices
/// <c>Tokens[Starts[r]..Starts[r+1])</c>, one sequence's tokens in batch (= position) order. Attention
/// takes a run × KV head as its unit of work. The arrays are allocated once and refilled per chunk.
/// </summary>
internal sealed class SequenceRuns(int maxTokens, int slots)
{
    private readonly int[] _runOfSequence = new int[slots];

    public int[] Starts { get; } = new int[maxTokens + 1];

    public int[] Tokens { get; } = new int[maxTokens];

    public int Count { get; private set; }

    /// <summary>Groups the first <paramref name="n"/> tokens by their sequence (a counting sort, stable).</summary>
    public void Group(int[] sequences, int n)
    {
        Array.Fill(_runOfSequence, -1);
        var runs = 0;
        Span<int> counts = stackalloc int[n];
        for (var i = 0; i < n; i++)
        {
            ref var r = ref _runOfSequence[sequences[i]];
            if (r < 0)
            {
                r = runs++;
                counts[r] = 0;
            }

            counts[r]++;
        }

        Starts[0] = 0;
        for (var r = 0; r < runs; r++)
        {
            Starts[r + 1] = Starts[r] + counts[r];
            counts[r] = Starts[r];
        }

        for (var i = 0; i < n; i++)
        {
            Tokens[counts[_runOfSequence[sequences[i]]]++] = i;
        }

        Count = runs;
    }
}
