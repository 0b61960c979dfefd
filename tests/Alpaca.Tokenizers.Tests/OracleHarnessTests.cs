using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>
/// The oracle's logits and greedy outputs, which the inference engine's tests rely on, are self-consistent:
/// full-vocabulary logits at every prompt position, and greedy tokens that are the argmax of those logits.
/// </summary>
public class OracleHarnessTests(SyntheticSpmModel model) : IClassFixture<SyntheticSpmModel>
{
    [Fact]
    public void Logits_cover_every_position_and_the_whole_vocabulary()
    {
        var logits = model.Response["logits"]!;
        var tokens = logits["tokens"]!.AsArray().Select(t => t!.GetValue<int>()).ToArray();
        Assert.Equal(model.Tokenizer.Encode("Give three tips for staying healthy.", addBos: true), tokens);
        Assert.Equal(Enumerable.Range(0, tokens.Length), logits["positions"]!.AsArray().Select(p => p!.GetValue<int>()));
        var rows = logits["logits"]!.AsArray();
        Assert.Equal(tokens.Length, rows.Count);
        foreach (var row in rows)
        {
            var values = row!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            Assert.Equal(model.Tokenizer.VocabSize, values.Length);
            Assert.All(values, v => Assert.True(double.IsFinite(v)));
        }
    }

    [Fact]
    public void Greedy_continuation_starts_with_the_argmax_of_the_last_logits()
    {
        var last = model.Response["logits"]!["logits"]!.AsArray()[^1]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var argmax = Array.IndexOf(last, last.Max());
        var greedy = model.Response["greedy"]!;
        var generated = greedy["tokens"]!.AsArray().Select(t => t!.GetValue<int>()).ToArray();
        Assert.Equal(8, generated.Length);
        Assert.Equal(argmax, generated[0]);

        // llama.cpp's own detokenizer agrees with ours on the generated text.
        Assert.Equal(greedy["text"]!.GetValue<string>(), model.Tokenizer.Decode(generated));
    }
}
