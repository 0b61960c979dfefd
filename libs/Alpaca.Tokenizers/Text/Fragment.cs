namespace Alpaca.Tokenizers.Text;

/// <summary>A piece of the input: either raw text (<see cref="Token"/> = -1) or an already matched special token.</summary>
internal readonly record struct Fragment(int Token, int Start, int Length)
{
    public bool IsText => Token < 0;

    public static Fragment OfText(int start, int length) => new(-1, start, length);

    public static Fragment OfToken(int id) => new(id, 0, 0);
}
