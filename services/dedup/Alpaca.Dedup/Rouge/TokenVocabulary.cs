namespace Alpaca.Dedup.Rouge;

/// <summary>Interns tokens as dense ids so LCS compares ints and masks index arrays.</summary>
public sealed class TokenVocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public int Count => _ids.Count;

    public int[] Intern(string text)
    {
        var tokens = RougeTokenizer.Tokenize(text);
        var ids = new int[tokens.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            if (!_ids.TryGetValue(tokens[i], out var id))
            {
                id = _ids.Count;
                _ids.Add(tokens[i], id);
            }

            ids[i] = id;
        }

        return ids;
    }
}
