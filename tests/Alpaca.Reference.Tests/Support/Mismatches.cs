namespace Alpaca.Reference.Tests.Support;

/// <summary>Compares many values at once and fails with the first few differences and their count, not just the first.</summary>
public static class Mismatches
{
    public static void AssertNone<T>(IReadOnlyList<T> inputs, IReadOnlyList<string> expected, Func<T, string> actual, Func<T, string>? describe = null)
    {
        Assert.Equal(inputs.Count, expected.Count);
        var wrong = new List<string>();
        var count = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var ours = actual(inputs[i]);
            if (ours != expected[i])
            {
                count++;
                if (wrong.Count < 20)
                {
                    wrong.Add($"{(describe ?? (x => x?.ToString() ?? "null"))(inputs[i])}: python {expected[i]}, ours {ours}");
                }
            }
        }

        Assert.True(count == 0, $"{count} of {inputs.Count} differ from Python:\n" + string.Join('\n', wrong));
    }
}
