using System.Diagnostics;
using Alpaca.Llm.Prompts;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Tokenization;
using Xunit;
using Xunit.Abstractions;

namespace Alpaca.Trainer.Tests.Tokenization;

public sealed class TinyTokenizerTests(ITestOutputHelper output)
{
    [Fact]
    public void Learned_sentencepiece_model_loads_encodes_and_round_trips()
    {
        var records = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"));
        var clock = Stopwatch.StartNew();
        var vocabulary = TinyBpeTrainer.Train(records.Take(4000).SelectMany(r => new[] { AlpacaPrompt.Build(r.Instruction, r.Input), r.Output }), 2048);
        output.WriteLine($"trained in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(2048, vocabulary.Count);
        Assert.Equal(("<unk>", "<s>", "</s>", "<0x00>"), (vocabulary.Tokens[0], vocabulary.Tokens[1], vocabulary.Tokens[2], vocabulary.Tokens[3]));

        // Through tokenizer.model, as the tiny preset saves it and the trainer loads it.
        var tokenizer = new PreTrainedTokenizer(SentencePieceModelFile.Parse(SentencePieceModelFile.Serialize(vocabulary)));
        Assert.Equal((1, 2, 2048), (tokenizer.BosTokenId!.Value, tokenizer.EosTokenId, tokenizer.Count));
        Assert.Null(tokenizer.PadTokenId);

        clock.Restart();
        long tokens = 0, words = 0;
        foreach (var r in records.Take(2000))
        {
            var text = AlpacaPrompt.Build(r.Instruction, r.Input) + r.Output;
            var ids = tokenizer.Encode(text);
            tokens += ids.Count;
            words += text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.Equal(text, tokenizer.Encoder.Decode([.. ids]));
        }

        output.WriteLine($"2000 records: {tokens} tokens, {(double)tokens / words:F2} tokens/word, {clock.ElapsedMilliseconds} ms");
        // Unseen characters go through byte fallback and still round-trip.
        Assert.Equal("naïve 🦙 déjà", tokenizer.Encoder.Decode([.. tokenizer.Encode("naïve 🦙 déjà")]));
    }
}
