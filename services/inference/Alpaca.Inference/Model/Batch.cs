namespace Alpaca.Inference.Model;

/// <summary>
/// Tokens for one forward pass, possibly of several sequences (continuous batching): each has a
/// position, a sequence (KV cache slot) and a flag saying whether its logits are wanted. A sequence's
/// tokens must appear in order of consecutive positions. Reused between steps without allocating.
/// </summary>
public sealed class Batch
{
    private int[] _tokens;
    private int[] _positions;
    private int[] _sequences;
    private bool[] _logits;

    public Batch(int capacity = 64)
    {
        _tokens = new int[Math.Max(1, capacity)];
        _positions = new int[_tokens.Length];
        _sequences = new int[_tokens.Length];
        _logits = new bool[_tokens.Length];
    }

    public int Count { get; private set; }

    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Count);

    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);

    public ReadOnlySpan<int> Sequences => _sequences.AsSpan(0, Count);

    public ReadOnlySpan<bool> WantsLogits => _logits.AsSpan(0, Count);

    /// <summary>Number of tokens whose logits the forward pass returns.</summary>
    public int LogitCount { get; private set; }

    public void Clear()
    {
        Count = 0;
        LogitCount = 0;
    }

    public void Add(int token, int position, int sequence, bool logits)
    {
        if (Count == _tokens.Length)
        {
            var n = _tokens.Length * 2;
            Array.Resize(ref _tokens, n);
            Array.Resize(ref _positions, n);
            Array.Resize(ref _sequences, n);
            Array.Resize(ref _logits, n);
        }

        _tokens[Count] = token;
        _positions[Count] = position;
        _sequences[Count] = sequence;
        _logits[Count] = logits;
        Count++;
        LogitCount += logits ? 1 : 0;
    }

    /// <summary>Adds a run of tokens of one sequence at consecutive positions from <paramref name="startPosition"/>.</summary>
    public void AddSequence(ReadOnlySpan<int> tokens, int startPosition, int sequence, bool logitsForLast = true, bool logitsForAll = false)
    {
        for (var i = 0; i < tokens.Length; i++)
        {
            Add(tokens[i], startPosition + i, sequence, logitsForAll || (logitsForLast && i == tokens.Length - 1));
        }
    }
}
