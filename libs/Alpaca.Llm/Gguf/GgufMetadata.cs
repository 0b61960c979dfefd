using System.Collections;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// GGUF key/value metadata in file order, with lookup by key. Keys are unique: the reader rejects a
/// duplicate as a format error, and <see cref="Set"/> replaces an existing key's value in place.
/// </summary>
public sealed class GgufMetadata : IReadOnlyList<KeyValuePair<string, GgufValue>>
{
    private readonly List<KeyValuePair<string, GgufValue>> _entries = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public KeyValuePair<string, GgufValue> this[int index] => _entries[index];

    public GgufValue this[string key] =>
        TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"GGUF metadata has no key '{key}'.");

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public bool TryGetValue(string key, out GgufValue value)
    {
        if (_index.TryGetValue(key, out var i))
        {
            value = _entries[i].Value;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>Adds the key at the end, or replaces its value in place when it exists.</summary>
    public void Set(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (_index.TryGetValue(key, out var i))
        {
            _entries[i] = new(key, value);
        }
        else
        {
            _index[key] = _entries.Count;
            _entries.Add(new(key, value));
        }
    }

    /// <summary>Adds a new key; false when it already exists (used by the reader to detect duplicates).</summary>
    internal bool TryAdd(string key, GgufValue value)
    {
        if (!_index.TryAdd(key, _entries.Count))
        {
            return false;
        }

        _entries.Add(new(key, value));
        return true;
    }

    public bool Remove(string key)
    {
        if (!_index.Remove(key, out var i))
        {
            return false;
        }

        _entries.RemoveAt(i);
        for (var j = i; j < _entries.Count; j++)
        {
            _index[_entries[j].Key] = j;
        }

        return true;
    }

    public string? GetString(string key) => TryGetValue(key, out var v) ? v.AsString() : null;

    /// <summary>An integer of any GGUF integer type, or null when absent.</summary>
    public long? GetInteger(string key) => TryGetValue(key, out var v) ? v.ToInt64() : null;

    /// <summary>A number of any GGUF numeric type, or null when absent.</summary>
    public double? GetNumber(string key) => TryGetValue(key, out var v) ? v.ToDouble() : null;

    public bool? GetBool(string key) => TryGetValue(key, out var v) ? v.AsBool() : null;

    public T[]? GetArray<T>(string key) => TryGetValue(key, out var v) ? v.AsArray<T>() : null;

    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
