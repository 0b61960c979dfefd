using Alpaca.Trainer.Data;

namespace Alpaca.Trainer.Tests;

/// <summary>Token-level examples for tests of the training math that need no tokenizer.</summary>
internal static class SyntheticData
{
    /// <summary>
    /// Examples of 4..maxLength tokens: BOS 1, a "prompt" of random ids masked with −100, then a
    /// "response" drawn from a small repeating pattern the model can learn, ending in EOS 2.
    /// </summary>
    public static SupervisedDataset Examples(int count, int vocab, int maxLength, int seed)
    {
        var random = new Random(seed);
        var examples = new List<SupervisedExample>();
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(4, maxLength + 1);
            var source = random.Next(2, length - 1);
            var ids = new int[length];
            ids[0] = 1;
            for (var t = 1; t < length - 1; t++)
            {
                ids[t] = t < source ? random.Next(3, vocab) : 3 + ((ids[t - 1] + 5) % (vocab - 3));
            }

            ids[^1] = 2;
            var labels = (int[])ids.Clone();
            Array.Fill(labels, SupervisedExample.IgnoreIndex, 0, source);
            examples.Add(new SupervisedExample(ids, labels, source));
        }

        return SupervisedDataset.FromExamples(examples);
    }
}
