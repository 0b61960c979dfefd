using System.Diagnostics;
using Alpaca.Llm.Prompts;
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
        var pieces = TinyBpeTrainer.Train(records.Take(4000).SelectMany(r => new[] { AlpacaPrompt.Build(r.Instruction, r.Input), r.Output }), 2048);
        output.WriteLine($"trained in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(2048, pieces.Count);
        Assert.Equal(("<unk>", "<s>", "</s>", "<0x00>"), (pieces[0].Piece, pieces[1].Piece, pieces[2].Piece, pieces[3].Piece));

        var tokenizer = new SentencePieceSftTokenizer(SentencePieceModelWriter.Write(pieces));
        Assert.Equal((1, 2, 2048), (tokenizer.BosId!.Value, tokenizer.EosId, tokenizer.Count));
        Assert.Null(tokenizer.PadId);

        clock.Restart();
        long tokens = 0, words = 0;
        foreach (var r in records.Take(2000))
        {
            var text = AlpacaPrompt.Build(r.Instruction, r.Input) + r.Output;
            var ids = tokenizer.Encode(text);
            tokens += ids.Count;
            words += text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.Equal(text, tokenizer.Decode(ids));
        }

        output.WriteLine($"2000 records: {tokens} tokens, {(double)tokens / words:F2} tokens/word, {clock.ElapsedMilliseconds} ms");
        // Unseen characters go through byte fallback and still round-trip.
        Assert.Equal("naïve 🦙 déjà", tokenizer.Decode(tokenizer.Encode("naïve 🦙 déjà")));
    }
}
