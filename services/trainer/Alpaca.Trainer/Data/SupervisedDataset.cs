using Alpaca.Llm.Prompts;
namespace Alpaca.Trainer.Data;

/// <summary>
/// train.py's <c>SupervisedDataset</c>: every record is formatted with the prompt template, tokenized
/// up front, and masked. For a record, with BOS added as the LLaMA tokenizer does:
///   source  = template.format_map(record)
///   example = [BOS] + encode(source + output) + [EOS], truncated to max_length
///   labels  = example with the first min(len([BOS] + encode(source)), max_length) ids set to −100.
/// train.py appends EOS as the text "&lt;/s&gt;", which the slow LLaMA tokenizer turns into the EOS id;
/// appending the id is the same thing without depending on special-token parsing.
/// </summary>
public sealed class SupervisedDataset
{
    private SupervisedDataset(IReadOnlyList<SupervisedExample> examples) => Examples = examples;

    public IReadOnlyList<SupervisedExample> Examples { get; }

    public int Count => Examples.Count;

    public static SupervisedExample Tokenize(AlpacaRecord record, ISftTokenizer tokenizer, int maxLength)
    {
        if (maxLength < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 2.");
        }

        var source = AlpacaPrompt.Build(record.Instruction, record.Input);
        var sourceIds = WithBos(tokenizer, tokenizer.Encode(source));
        var fullIds = WithBos(tokenizer, tokenizer.Encode(source + record.Output));
        fullIds.Add(tokenizer.EosId);

        var inputIds = fullIds.Count > maxLength ? fullIds.GetRange(0, maxLength).ToArray() : fullIds.ToArray();
        var sourceLength = Math.Min(sourceIds.Count, maxLength);
        var labels = (int[])inputIds.Clone();
        Array.Fill(labels, SupervisedExample.IgnoreIndex, 0, Math.Min(sourceLength, labels.Length));
        return new SupervisedExample(inputIds, labels, sourceLength);
    }

    /// <summary>Tokenizes all records (in parallel when the tokenizer allows it), keeping their order.</summary>
    public static SupervisedDataset Build(IReadOnlyList<AlpacaRecord> records, ISftTokenizer tokenizer, int maxLength, CancellationToken cancellationToken = default)
    {
        var examples = new SupervisedExample[records.Count];
        var options = new ParallelOptions
        {
            CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = tokenizer.IsThreadSafe ? Environment.ProcessorCount : 1,
        };
        Parallel.For(0, records.Count, options, i => examples[i] = Tokenize(records[i], tokenizer, maxLength));
        return new SupervisedDataset(examples);
    }

    public static SupervisedDataset FromExamples(IReadOnlyList<SupervisedExample> examples) => new(examples);

    private static List<int> WithBos(ISftTokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var list = new List<int>(ids.Count + 2);
        if (tokenizer.BosId is { } bos)
        {
            list.Add(bos);
        }

        list.AddRange(ids);
        return list;
    }
}
