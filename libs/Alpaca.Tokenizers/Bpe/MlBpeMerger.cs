using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Text;
using Microsoft.ML.Tokenizers;

namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// BPE merges by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (rank order, leftmost first, with a
/// word cache). It is given words already in byte-level characters, with its own byte mapping, normalizer
/// and pre-tokenizer switched off: the llama.cpp-exact splitting and special-token handling stay ours.
/// </summary>
internal sealed class MlBpeMerger : IBpeMerger
{
    private readonly BpeTokenizer _bpe;

    public MlBpeMerger(TokenTable table, IReadOnlyList<string> merges)
    {
        // Only tokens that merges can produce or start from: special and byte tokens are handled elsewhere.
        var vocab = new Dictionary<string, int>(table.Count, StringComparer.Ordinal);
        for (var id = 0; id < table.Count; id++)
        {
            if (table.Types[id] is TokenType.Normal)
            {
                vocab[table.Texts[id]] = id;
            }
        }

        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = false,
            PreTokenizer = null,
            Normalizer = null,
        });
    }

    public void Merge(string word, List<int> output) =>
        output.AddRange(_bpe.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
}
