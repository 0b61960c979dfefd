using System.Runtime.CompilerServices;

namespace Alpaca.Dedup.Rouge;

/// <summary>
/// Tokenizes exactly like <see cref="RougeTokenizer"/> in one pass over the UTF-16 units and interns each
/// token as a dense id, so LCS compares ints and masks index arrays. No string is allocated for a token
/// already known (span lookup). Not synchronised: the owner serialises writers (<see cref="Intern"/>)
/// and may run <see cref="Lookup"/> from many readers while no writer runs.
/// </summary>
public sealed class TokenVocabulary
{
    /// <summary>The id <see cref="Lookup"/> gives a token the vocabulary does not know (it matches nothing).</summary>
    public const int Unknown = -1;

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;
    private readonly List<string> _tokens = [];

    public TokenVocabulary() => _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _tokens.Count;

    /// <summary>The text of a token id.</summary>
    public string this[int id] => _tokens[id];

    /// <summary>Token ids of a text, adding unseen tokens to the vocabulary.</summary>
    public int[] Intern(string text) => Tokenize(text, add: true);

    /// <summary>Token ids of a text without changing the vocabulary; unseen tokens get <see cref="Unknown"/>.</summary>
    public int[] Lookup(string text) => Tokenize(text, add: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int[] Tokenize(string text, bool add)
    {
        // A run never exceeds the text length (+1 for nothing: U+0130 ends its run after one 'i').
        Span<char> stack = stackalloc char[256];
        var run = text.Length <= stack.Length ? stack : new char[text.Length];
        var ids = new List<int>(Math.Min(64, (text.Length / 4) + 1));
        var length = 0;
        foreach (var c in text)
        {
            switch (c)
            {
                case >= 'a' and <= 'z' or >= '0' and <= '9':
                    run[length++] = c;
                    break;
                case >= 'A' and <= 'Z':
                    run[length++] = (char)(c + 32);
                    break;
                case '\u212A': // KELVIN SIGN lower-cases to ASCII 'k'
                    run[length++] = 'k';
                    break;
                case '\u0130': // 'İ' lower-cases to "i" + U+0307, and U+0307 separates
                    run[length++] = 'i';
                    Flush(run, ref length, ids, add);
                    break;
                default: // every other unit, lone surrogates included, separates
                    Flush(run, ref length, ids, add);
                    break;
            }
        }

        Flush(run, ref length, ids, add);
        return [.. ids];
    }

    private void Flush(Span<char> run, ref int length, List<int> ids, bool add)
    {
        if (length == 0)
        {
            return;
        }

        var token = run[..length];
        length = 0;
        if (_spanIds.TryGetValue(token, out var id))
        {
            ids.Add(id);
        }
        else if (add)
        {
            var text = token.ToString();
            id = _tokens.Count;
            _ids.Add(text, id);
            _tokens.Add(text);
            ids.Add(id);
        }
        else
        {
            ids.Add(Unknown);
        }
    }
}
