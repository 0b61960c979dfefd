using Alpaca.Trainer.Data;
using Alpaca.Trainer.Tokenization;
using Xunit;

namespace Alpaca.Trainer.Tests.Data;

/// <summary>train.py's preprocess on real Alpaca records, checked against the templates written out by hand.</summary>
public sealed class SupervisedExampleTests
{
    private const int Bos = 1;
    private const int Eos = 2;

    [Fact]
    public void Record_without_input_masks_exactly_the_prompt()
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer;
        var record = TinyTokenizerFixture.Records[1]; // "What are the three primary colors?"
        Assert.Equal(("What are the three primary colors?", "", "The three primary colors are red, blue, and yellow."), (record.Instruction, record.Input, record.Output));

        var example = SupervisedDataset.Tokenize(record, tokenizer, maxLength: 512);

        const string prompt = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
                              "### Instruction:\nWhat are the three primary colors?\n\n### Response:";
        var promptIds = tokenizer.Encode(prompt);
        Assert.Equal(Bos, promptIds[0]);
        Assert.Equal(promptIds.Count, example.SourceLength);
        Assert.Equal(Bos, example.InputIds[0]);
        Assert.Equal(Eos, example.InputIds[^1]);
        Assert.All(example.Labels.Take(example.SourceLength), l => Assert.Equal(-100, l));
        Assert.Equal(example.InputIds.Skip(example.SourceLength), example.Labels.Skip(example.SourceLength));
        Assert.Equal(prompt, Decode(tokenizer, example.InputIds.Skip(1).Take(example.SourceLength - 1)));
        Assert.Equal(record.Output, Decode(tokenizer, example.Labels.Skip(example.SourceLength).SkipLast(1)));
        Assert.Equal(example.Length - example.SourceLength, example.TrainedTokens);
    }

    [Fact]
    public void Record_with_input_uses_the_input_template()
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer;
        var record = TinyTokenizerFixture.Records.First(r => r.Input != string.Empty);
        var example = SupervisedDataset.Tokenize(record, tokenizer, maxLength: 512);

        const string prompt = "Below is an instruction that describes a task, paired with an input that provides further context. " +
                              "Write a response that appropriately completes the request.\n\n" +
                              "### Instruction:\nIdentify the odd one out.\n\n### Input:\nTwitter, Instagram, Telegram\n\n### Response:";
        Assert.Equal(tokenizer.Encode(prompt).Count, example.SourceLength);
        Assert.Equal(prompt, Decode(tokenizer, example.InputIds.Skip(1).Take(example.SourceLength - 1)));
        Assert.Equal("Telegram", record.Output);
        Assert.Equal("Telegram", Decode(tokenizer, example.Labels.Skip(example.SourceLength).SkipLast(1)));
        Assert.Equal(Eos, example.Labels[^1]);
    }

    [Fact]
    public void Truncation_cuts_at_max_length_and_a_long_prompt_masks_everything()
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer;
        var record = TinyTokenizerFixture.Records[0];
        var full = SupervisedDataset.Tokenize(record, tokenizer, maxLength: 512);

        // Cut inside the response: the EOS is lost, as with truncation=True in train.py.
        var cut = full.SourceLength + 3;
        var partial = SupervisedDataset.Tokenize(record, tokenizer, maxLength: cut);
        Assert.Equal(full.InputIds.Take(cut), partial.InputIds);
        Assert.Equal(3, partial.TrainedTokens);
        Assert.NotEqual(Eos, partial.InputIds[^1]);

        // The prompt alone exceeds max_length: nothing is learned from this example.
        var masked = SupervisedDataset.Tokenize(record, tokenizer, maxLength: 16);
        Assert.Equal(16, masked.Length);
        Assert.Equal(16, masked.SourceLength);
        Assert.Equal(0, masked.TrainedTokens);
    }

    [Fact]
    public void Dataset_build_keeps_record_order()
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer;
        var records = TinyTokenizerFixture.Records.Take(200).ToList();
        var dataset = SupervisedDataset.Build(records, tokenizer, 512);
        Assert.Equal(200, dataset.Count);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(SupervisedDataset.Tokenize(records[i], tokenizer, 512).InputIds, dataset.Examples[i].InputIds);
        }
    }

    private static string Decode(PreTrainedTokenizer tokenizer, IEnumerable<int> ids) => tokenizer.Encoder.Decode(ids.ToArray());
}
