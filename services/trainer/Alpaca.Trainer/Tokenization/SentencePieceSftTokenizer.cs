using Alpaca.Trainer.Data;
using Microsoft.ML.Tokenizers;

namespace Alpaca.Trainer.Tokenization;

/// <summary>
/// A LLaMA SentencePiece tokenizer (<c>tokenizer.model</c>, read by Microsoft.ML.Tokenizers) plus the
/// tokens HF added on top of it (<c>added_tokens.json</c>, e.g. train.py's <c>[PAD]</c>), seen
/// through <see cref="ISftTokenizer"/>. BOS is prepended as HF's LLaMA tokenizer does by default.
/// </summary>
public sealed class SentencePieceSftTokenizer : ISftTokenizer
{
    private readonly LlamaTokenizer tokenizer;
    private readonly IReadOnlyDictionary<string, int> addedTokens;
    private readonly Dictionary<int, string> addedById;

    public SentencePieceSftTokenizer(byte[] modelProto, IReadOnlyDictionary<string, int>? addedTokens = null, string? padToken = null, bool addBos = true, string source = "tokenizer.model")
    {
        try
        {
            using var stream = new MemoryStream(modelProto);
            tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{source}: not a readable SentencePiece model ({e.Message}).", e);
        }

        ModelProto = modelProto;
        this.addedTokens = addedTokens ?? new Dictionary<string, int>();
        addedById = this.addedTokens.ToDictionary(kv => kv.Value, kv => kv.Key);
        BaseVocabularySize = tokenizer.Vocabulary.Count;
        Count = Math.Max(BaseVocabularySize, this.addedTokens.Count == 0 ? 0 : this.addedTokens.Values.Max() + 1);
        BosId = addBos ? tokenizer.BeginningOfSentenceId : null;
        EosId = tokenizer.EndOfSentenceId;
        PadToken = padToken;
        if (padToken is not null)
        {
            PadId = this.addedTokens.TryGetValue(padToken, out var id) ? id
                : tokenizer.Vocabulary.TryGetValue(padToken, out var vid) ? vid
                : throw new InvalidDataException($"{source}: pad token '{padToken}' is neither in the vocabulary nor an added token.");
        }
    }

    /// <summary>The tokenizer.model bytes, written unchanged into exported checkpoints.</summary>
    public byte[] ModelProto { get; }

    public IReadOnlyDictionary<string, int> AddedTokens => addedTokens;

    public int BaseVocabularySize { get; }

    public string? PadToken { get; }

    public int? BosId { get; }

    public int EosId { get; }

    public int? PadId { get; }

    public int Count { get; }

    public bool IsThreadSafe => true;

    public IReadOnlyList<int> Encode(string text) =>
        tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: true, considerNormalization: true);

    public string Decode(IEnumerable<int> ids)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (var id in ids)
        {
            if (addedById.TryGetValue(id, out var added))
            {
                text.Append(tokenizer.Decode(run));
                run.Clear();
                text.Append(added);
            }
            else
            {
                run.Add(id);
            }
        }

        return text.Append(tokenizer.Decode(run)).ToString();
    }

    /// <summary>train.py's special-token step: add <paramref name="token"/> as the pad token with the next id.</summary>
    public SentencePieceSftTokenizer WithAddedPad(string token = "[PAD]")
    {
        var added = new Dictionary<string, int>(addedTokens) { [token] = Count };
        return new SentencePieceSftTokenizer(ModelProto, added, token, BosId is not null);
    }
}
