using System.Text;

namespace Alpaca.Dedup.Tests;

/// <summary>
/// Random instruction streams that stress the exact paths: a skewed vocabulary (so frequent words have long
/// posting lists), many near-duplicates (one word replaced, inserted, dropped or case/punctuation changed)
/// so pairs sit at and around F = 0.7, repeated words, long texts past 64 and 128 tokens, and texts with no
/// tokens at all.
/// </summary>
public sealed class RandomTexts(int seed, int vocabulary = 60)
{
    private readonly Random _random = new(seed);
    private readonly List<string> _made = [];

    public string Word() => "w" + (int)(Math.Pow(_random.NextDouble(), 2.5) * vocabulary);

    public string Next()
    {
        var roll = _random.NextDouble();
        string text;
        if (_made.Count > 0 && roll < 0.5)
        {
            text = Edit(_made[_random.Next(_made.Count)]);
        }
        else if (roll < 0.53)
        {
            text = _random.Next(3) switch { 0 => "", 1 => "¿¡ 你好 🙂 —", _ => "\uD800 \uDC00!" };
        }
        else if (roll < 0.58)
        {
            text = Sentence(_random.Next(60, 200));
        }
        else
        {
            text = Sentence(_random.Next(1, 16));
        }

        _made.Add(text);
        return text;
    }

    public List<string> Take(int count) => Enumerable.Range(0, count).Select(_ => Next()).ToList();

    private string Sentence(int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => Word()));

    private string Edit(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (words.Count == 0)
        {
            return Sentence(_random.Next(1, 10));
        }

        switch (_random.Next(5))
        {
            case 0:
                words[_random.Next(words.Count)] = Word();
                break;
            case 1:
                words.Insert(_random.Next(words.Count + 1), Word());
                break;
            case 2 when words.Count > 1:
                words.RemoveAt(_random.Next(words.Count));
                break;
            case 3:
                var i = _random.Next(words.Count);
                words[i] = words[i].ToUpperInvariant() + (_random.Next(2) == 0 ? "," : ".");
                break;
            default:
                (words[0], words[^1]) = (words[^1], words[0]);
                break;
        }

        return string.Join(' ', words);
    }

    /// <summary>A random string of ASCII, accented letters, U+0130, U+212A, digits, punctuation and lone or paired surrogates.</summary>
    public string Chars(int length)
    {
        const string alphabet = "aZz09 .,'-_\t\n\u00e9\u0130\u212Ak\u0131\u017F\u00df\u0307\u00a0\u200b\u4f60";
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var roll = _random.Next(20);
            text.Append(roll switch
            {
                0 => "\uD83D",
                1 => "\uDE42",
                2 => "\uD83D\uDE42",
                _ => alphabet[_random.Next(alphabet.Length)].ToString(),
            });
        }

        return text.ToString();
    }
}
