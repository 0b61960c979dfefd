using Alpaca.Llm.Prompts;
using Alpaca.Trainer.Tokenization;

namespace Alpaca.Trainer.Data;

/// <summary>
/// train.py's <c>SupervisedDataset</c>: every record is formatted with the prompt template, tokenized
/// up front, and masked. For a record, with the base model's tokenizer (BOS added as it adds it):
///   source  = template.format_map(record)
///   target  = f"{output}{tokenizer.eos_token}"
///   example = tokenizer(source + target), truncated to max_length
///   labels  = example with the first min(len(tokenizer(source)), max_length) ids set to −100.
/// The source is tokenized on its own and only its length is used, exactly as train.py does, even where
/// the full text tokenizes differently at the source/target boundary. The EOS text becomes the EOS id
/// because special-token texts are parsed, as HF parses them.
/// </summary>
public sealed class SupervisedDataset
{
    private SupervisedDataset(IReadOnlyList<SupervisedExample> examples) => Examples = examples;

    public IReadOnlyList<SupervisedExample> Examples { get; }

    public int Count => Examples.Count;

    /// <summary>The prompt part of a record: train.py's <c>PROMPT_DICT</c> filled by <c>format_map</c>.</summary>
    public static string Source(AlpacaRecord record) => AlpacaPrompt.Build(record.Instruction, record.Input);

    public static SupervisedExample Tokenize(AlpacaRecord record, PreTrainedTokenizer tokenizer, int maxLength)
    {
        if (maxLength < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2.");
        }

        var source = Source(record);
        var target = record.Output + tokenizer.EosToken;
        var sourceIds = tokenizer.Encode(source);
        var fullIds = tokenizer.Encode(source + target);

        var inputIds = fullIds.Take(maxLength).ToArray();
        var sourceLength = Math.Min(sourceIds.Count, maxLength);
        var labels = (int[])inputIds.Clone();
        Array.Fill(labels, SupervisedExample.IgnoreIndex, 0, Math.Min(sourceLength, labels.Length));
        return new SupervisedExample(inputIds, labels, sourceLength);
    }

    /// <summary>Tokenizes all records in parallel, keeping their order.</summary>
    public static SupervisedDataset Build(IReadOnlyList<AlpacaRecord> records, PreTrainedTokenizer tokenizer, int maxLength, CancellationToken cancellationToken = default)
    {
        var examples = new SupervisedExample[records.Count];
        var options = new ParallelOptions
        {
            CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = Environment.ProcessorCount, // the encoder is immutable, so thread-safe
        };
        Parallel.For(0, records.Count, options, i => examples[i] = Tokenize(records[i], tokenizer, maxLength));
        return new SupervisedDataset(examples);
    }

    public static SupervisedDataset FromExamples(IReadOnlyList<SupervisedExample> examples) => new(examples);
}
