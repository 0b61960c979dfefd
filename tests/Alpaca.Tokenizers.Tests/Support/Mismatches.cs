namespace Alpaca.Tokenizers.Tests.Support;

/// <summary>Compares id lists text by text and reports the first differences readably.</summary>
internal static class Mismatches
{
    public static void AssertSameIds(IReadOnlyList<string> texts, IReadOnlyList<int[]> expected, Func<string, IReadOnlyList<int>> actual, string reference)
    {
        Assert.Equal(texts.Count, expected.Count);
        var failures = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var ours = actual(texts[i]);
            if (!ours.SequenceEqual(expected[i]))
            {
                failures.Add($"text #{i} {Show(texts[i])}\n  {reference}: [{string.Join(",", expected[i])}]\n  ours:  [{string.Join(",", ours)}]");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Count} texts tokenize differently from {reference}:\n{string.Join("\n", failures.Take(5))}");
    }

    public static string Show(string text) =>
        System.Text.Json.JsonSerializer.Serialize(text.Length > 120 ? text[..120] + "…" : text);
}
