using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers;

namespace Alpaca.Trainer.Tokenization;

/// <summary>
/// The tokenizer train.py gets from <c>AutoTokenizer.from_pretrained</c>: the base model's vocabulary with
/// its added tokens (one <see cref="LlamaVocabulary"/>, read by Alpaca.Llm from tokenizer.model or
/// tokenizer.json plus the HF side files), encoded by the llama.cpp-conformant <see cref="ITextTokenizer"/>
/// that serving uses too — so training and serving give a prompt the same ids, for SentencePiece
/// (LLaMA-1/2) and byte-level BPE (Llama-3) bases alike.
/// </summary>
public sealed class PreTrainedTokenizer
{
    public PreTrainedTokenizer(LlamaVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        Vocabulary = vocabulary;
        Encoder = TokenizerFactory.FromVocabulary(vocabulary);
        if (Encoder.EosId < 0)
        {
            throw new InvalidDataException("The tokenizer has no EOS token; train.py appends tokenizer.eos_token to every target.");
        }

        // train.py appends EOS as text; HF turns it back into the one EOS id, so must the encoder.
        if (Encoder.Encode(EosToken, addBos: false, parseSpecial: true) is not [var eos] || eos != EosTokenId)
        {
            throw new InvalidDataException($"The EOS token '{EosToken}' (id {EosTokenId}) is not a special token of the vocabulary, so its text would not encode to its id.");
        }
    }

    /// <summary>The vocabulary, added tokens included; what <see cref="HfTokenizerFiles.Write"/> saves.</summary>
    public LlamaVocabulary Vocabulary { get; }

    /// <summary>The llama.cpp-conformant encoder/decoder of <see cref="Vocabulary"/>.</summary>
    public ITextTokenizer Encoder { get; }

    /// <summary><c>len(tokenizer)</c>: ids including added tokens.</summary>
    public int Count => Vocabulary.Count;

    /// <summary>The BOS id every encoding starts with (<c>add_bos_token</c>), or null when the tokenizer adds none.</summary>
    public int? BosTokenId => Encoder.AddBosByDefault ? Encoder.BosId : null;

    public int EosTokenId => Encoder.EosId;

    /// <summary><c>tokenizer.eos_token</c>, the text train.py appends to every target.</summary>
    public string EosToken => Encoder.TokenText(Encoder.EosId);

    /// <summary>The padding id, or null when the tokenizer has no pad token (train.py then adds [PAD]).</summary>
    public int? PadTokenId => Encoder.PadId;

    /// <summary>Reads an HF folder's tokenizer files (tokenizer.model or tokenizer.json, added and special tokens).</summary>
    public static PreTrainedTokenizer Load(string folder) =>
        new(HfTokenizerFiles.Read(folder)
            ?? throw new FileNotFoundException(
                $"{folder}: no {SentencePieceModelFile.FileName} (SentencePiece, LLaMA-1/2) or {HfTokenizerJson.FileName} (byte-level BPE, Llama-3); no tokenizer found.",
                Path.Combine(folder, SentencePieceModelFile.FileName)));

    /// <summary>
    /// <c>tokenizer(text).input_ids</c>: BOS first when the tokenizer adds it, and the texts of special and
    /// added tokens (<c>&lt;/s&gt;</c>, <c>[PAD]</c>) become those tokens, as HF splits them out of the text.
    /// </summary>
    public IReadOnlyList<int> Encode(string text) => Encoder.Encode(text, Encoder.AddBosByDefault, parseSpecial: true);

    /// <summary>
    /// train.py's <c>tokenizer.add_special_tokens({"pad_token": "[PAD]"})</c>: the token is appended with the
    /// next id (<c>len(tokenizer)</c>) as a special (control) token and becomes the pad token.
    /// </summary>
    public PreTrainedTokenizer WithAddedPad(string token = "[PAD]")
    {
        if (Vocabulary.IdOf(token) is { } existing)
        {
            return new PreTrainedTokenizer(Vocabulary with { PaddingTokenId = existing });
        }

        return new PreTrainedTokenizer(Vocabulary with
        {
            Tokens = [.. Vocabulary.Tokens, token],
            Types = [.. Vocabulary.Types, TokenType.Control],
            Scores = Vocabulary.Scores is null ? null : [.. Vocabulary.Scores, 0f],
            PaddingTokenId = Count,
        });
    }
}
