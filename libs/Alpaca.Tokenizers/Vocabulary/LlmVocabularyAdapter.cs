using Alpaca.Llm.Tokenizers;

namespace Alpaca.Tokenizers.Vocabulary;

/// <summary>Maps Alpaca.Llm's <see cref="LlamaVocabulary"/> (GGUF writer / tokenizer.model reader) to <see cref="TokenizerVocabulary"/>.</summary>
public static class LlmVocabularyAdapter
{
    public static TokenizerVocabulary ToTokenizerVocabulary(this LlamaVocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        return new TokenizerVocabulary
        {
            Model = vocab.Model,
            Tokens = vocab.Tokens,
            Scores = vocab.Scores,
            TokenTypes = vocab.Types.Select(t => (TokenType)(int)t).ToArray(),
            Merges = vocab.Merges,
            Pre = vocab.PreTokenizer,
            BosId = vocab.BosTokenId,
            EosId = vocab.EosTokenId,
            UnkId = vocab.UnknownTokenId,
            PadId = vocab.PaddingTokenId,
            AddBos = vocab.AddBosToken,
            AddEos = vocab.AddEosToken,
        };
    }
}
