using System.Text;

namespace Alpaca.Inference.Serving;

/// <summary>
/// Stop sequences over streamed text. Text is released as soon as it can no longer be the start of a stop
/// sequence, so a caller never sees any part of one (a stop split over several tokens included), and the
/// text ends right before the first match (OpenAI semantics; the contract can ask for the stop to be
/// appended). It says which stop matched, and can be told that stopping is not yet allowed (min_tokens):
/// text produced before that is released at once and never matched.
/// </summary>
internal sealed class StopWatcher(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
    private readonly StringBuilder _pending = new();

    public string? Matched { get; private set; }

    /// <summary>Adds text; returns what is safe to emit now (never any part of a stop sequence).</summary>
    public string Push(string text, bool canStop)
    {
        if (Matched is not null)
        {
            return string.Empty;
        }

        _pending.Append(text);
        if (_stops.Length == 0 || !canStop)
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
                Matched = stop;
            }
        }

        if (first >= 0)
        {
            _pending.Clear();
            return pending[..first];
        }

        // Hold back the longest tail that could still become a stop sequence.
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

    /// <summary>Text held back, released when the sequence ends for another reason.</summary>
    public string Flush() => Matched is not null ? string.Empty : Drain(_pending.Length);

    private string Drain(int count)
    {
        var s = _pending.ToString(0, count);
        _pending.Remove(0, count);
        return s;
    }
}
