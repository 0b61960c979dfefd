using System.Text;
using Alpaca.Reference;

namespace Alpaca.Generator.Parsing;

/// <summary>
/// The reference's keyword blacklist and its matcher <c>re.search(r"\b({word})\b", inst, re.IGNORECASE)</c>.
/// Matched by hand rather than with a .NET regex so that the two Python details hold exactly:
/// <list type="bullet">
/// <item><c>\b</c> sits between a Python word character (letters, numbers of every kind, '_') and anything
/// else, so "images" does not contain the word "image", but "image-based" and "image_" ... do / do not
/// exactly as Python decides.</item>
/// <item>IGNORECASE is Python's, with its extra equivalences (<see cref="PyRe.IgnoreCaseEquals"/>).</item>
/// </list>
/// </summary>
public static class Blacklist
{
    /// <summary>The 18 entries of generate_instruction.py, in its order.</summary>
    public static readonly IReadOnlyList<string> Words =
    [
        "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
        "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
    ];

    /// <summary>The first blacklisted word found in <paramref name="text"/>, or null.</summary>
    public static string? FirstMatch(string text)
    {
        foreach (var word in Words)
        {
            if (ContainsWord(text, word))
            {
                return word;
            }
        }

        return null;
    }

    /// <summary><c>re.search(r"\b(word)\b", text, re.IGNORECASE)</c> for a lower-case ASCII word that begins and ends with a letter.</summary>
    public static bool ContainsWord(string text, string word)
    {
        for (var start = 0; start < text.Length; start++)
        {
            if (!BoundaryBefore(text, start))
            {
                continue;
            }

            var end = MatchAt(text, start, word);
            if (end >= 0 && BoundaryAfter(text, end))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Matches <paramref name="word"/> case-insensitively at <paramref name="start"/>; returns the end index or -1.</summary>
    private static int MatchAt(string text, int start, string word)
    {
        var at = start;
        foreach (var expected in word)
        {
            if (at >= text.Length || !Rune.TryGetRuneAt(text, at, out var rune) || !PyRe.IgnoreCaseEquals(rune, expected))
            {
                return -1;
            }

            at += rune.Utf16SequenceLength;
        }

        return at;
    }

    // The words start and end with a letter (a word character), so \b needs a non-word neighbour.
    private static bool BoundaryBefore(string text, int index) =>
        index == 0 || !IsWordBefore(text, index);

    private static bool BoundaryAfter(string text, int index) =>
        index >= text.Length || !Rune.TryGetRuneAt(text, index, out var next) || !PyRe.IsWordChar(next);

    private static bool IsWordBefore(string text, int index)
    {
        var c = text[index - 1];
        if (char.IsLowSurrogate(c) && index >= 2 && char.IsHighSurrogate(text[index - 2]))
        {
            return PyRe.IsWordChar(new Rune(text[index - 2], c));
        }

        return !char.IsSurrogate(c) && PyRe.IsWordChar(new Rune(c));
    }
}
