using System.Text.RegularExpressions;

namespace Alpaca.State;

/// <summary>Validation of state keys: '/'-separated segments of <c>[A-Za-z0-9._:-]</c>.</summary>
public static partial class StateKey
{
    [GeneratedRegex(@"^[A-Za-z0-9._:\-]+(/[A-Za-z0-9._:\-]+)*$")]
    private static partial Regex KeyPattern();

    public static string Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > 512 || !KeyPattern().IsMatch(key) || key.Split('/').Any(s => s is "." or ".."))
        {
            throw new ArgumentException($"Invalid state key '{key}': use '/'-separated segments of [A-Za-z0-9._:-].", nameof(key));
        }

        return key;
    }

    /// <summary>Joins segments into a key, validating each.</summary>
    public static string Join(params string[] segments) => Validate(string.Join('/', segments));
}
