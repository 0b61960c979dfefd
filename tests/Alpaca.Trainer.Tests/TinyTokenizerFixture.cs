using Alpaca.Llm.Prompts;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Tokenization;

namespace Alpaca.Trainer.Tests;

/// <summary>The tiny preset's tokenizer, learned once from the first 4,000 Alpaca records.</summary>
internal static class TinyTokenizerFixture
{
    private static readonly Lazy<(List<AlpacaRecord> Records, PreTrainedTokenizer Tokenizer)> Lazy = new(() =>
    {
        var records = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"));
        var vocabulary = TinyBpeTrainer.Train(records.Take(4000).SelectMany(r => new[] { AlpacaPrompt.Build(r.Instruction, r.Input), r.Output }), 2048);
        return (records, new PreTrainedTokenizer(vocabulary));
    });

    public static List<AlpacaRecord> Records => Lazy.Value.Records;

    public static PreTrainedTokenizer Tokenizer => Lazy.Value.Tokenizer;
}
