using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>decode(encode(s)) == s over every record of alpaca_data.json.</summary>
public class RoundTripTests
{
    [Fact]
    public void Llama2_vocabulary_round_trips_all_52002_alpaca_records()
    {
        var tokenizer = TokenizerFactory.FromVocabulary(ReferenceVocabularies.Llama2);
        AssertRoundTrips(tokenizer);
    }

    [Fact]
    public void Llama3_vocabulary_round_trips_all_52002_alpaca_records()
    {
        AssertRoundTrips(ReferenceVocabularies.Llama3());
    }

    private static void AssertRoundTrips(ITextTokenizer tokenizer)
    {
        var records = Corpus.AlpacaRecords;
        Assert.Equal(52002, records.Count);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, records.Count, i =>
        {
            var (instruction, input, output) = records[i];
            foreach (var text in new[] { instruction, input, output })
            {
                var ids = tokenizer.Encode(text, addBos: tokenizer.AddBosByDefault);
                var back = tokenizer.Decode(ids.ToArray());
                if (back != text)
                {
                    failures.Add($"record {i}: {Mismatches.Show(text)} came back as {Mismatches.Show(back)}");
                }
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} texts did not round-trip:\n{string.Join("\n", failures.Take(5))}");
    }
}
