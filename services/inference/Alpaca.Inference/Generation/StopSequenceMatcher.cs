namespace Alpaca.Inference.Generation;

/// <summary>
/// Streams generated text while watching for stop sequences: text is released as soon as it can no
/// longer be the start of a stop sequence, so the caller never sees any part of a stop string, and the
/// final text ends right before the first stop sequence (OpenAI semantics: the stop text is not returned).
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private readonly System.Text.StringBuilder _pending = new();

    public StopSequenceMatcher(IEnumerable<string>? stops)
    {
        _stops = (stops ?? []).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
    }

    public bool Stopped { get; private set; }

    /// <summary>Adds generated text; returns the text that is now safe to emit (possibly empty).</summary>
    public string Push(string text)
    {
        if (Stopped)
        {
            return string.Empty;
        }

        _pending.Append(text);
        if (_stops.Length == 0)
        {
            return Drain(_pending.Length);
        }

        var pending = _pending.ToString();
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        if (first >= 0)
        {
            Stopped = true;
            var emit = pending[..first];
            _pending.Clear();
            return emit;
        }

        // Hold back the longest tail that is a proper prefix of some stop sequence.
        var hold = 0;
        foreach (var stop in _stops)
        {
            for (var len = Math.Min(stop.Length - 1, pending.Length); len > hold; len--)
            {
                if (string.CompareOrdinal(pending, pending.Length - len, stop, 0, len) == 0)
                {
                    hold = len;
                    break;
                }
            }
        }

        return Drain(pending.Length - hold);
    }

    /// <summary>The text still held back, released at the end of generation.</summary>
    public string Flush() => Stopped ? string.Empty : Drain(_pending.Length);

    private string Drain(int count)
    {
        var s = _pending.ToString(0, count);
        _pending.Remove(0, count);
        return s;
    }
}
