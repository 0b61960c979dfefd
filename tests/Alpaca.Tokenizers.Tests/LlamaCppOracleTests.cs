using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>
/// Conformance with llama.cpp itself (node-llama-cpp's prebuilt build, run as a real peer process): for GGUF
/// files written by the tiny-model factory, our tokenizer — read back from the same file — gives exactly
/// llama.cpp's ids for ~300 Alpaca and user-oriented instructions plus hard cases.
/// </summary>
public abstract class LlamaCppOracleTests<TModel>(TModel model)
    where TModel : OracleModel
{
    [Fact]
    public void Ids_equal_llama_cpp_for_alpaca_instructions()
    {
        Assert.True(model.Texts.Count >= 300, $"only {model.Texts.Count} texts");
        Mismatches.AssertSameIds(model.Texts, model.OracleIds, t => model.Tokenizer.Encode(t, addBos: model.Tokenizer.AddBosByDefault), "llama.cpp");
    }

    [Fact]
    public void Ids_equal_llama_cpp_when_parsing_special_tokens()
    {
        Mismatches.AssertSameIds(model.SpecialTexts, model.OracleSpecialIds, t => model.Tokenizer.Encode(t, addBos: false, parseSpecial: true), "llama.cpp");
    }

    [Fact]
    public void Metadata_agrees_with_llama_cpp()
    {
        var m = model.Response["model"]!;
        Assert.Equal(m["vocabSize"]!.GetValue<int>(), model.Tokenizer.VocabSize);
        Assert.Equal(m["bos"]!.GetValue<int>(), model.Tokenizer.BosId);
        Assert.Equal(m["eos"]!.GetValue<int>(), model.Tokenizer.EosId);
        Assert.Equal(m["addBos"]!.GetValue<bool>(), model.Tokenizer.AddBosByDefault);
    }
}

public sealed class SyntheticSpmOracleTests(SyntheticSpmModel model) : LlamaCppOracleTests<SyntheticSpmModel>(model), IClassFixture<SyntheticSpmModel>;

public sealed class Llama2SpmOracleTests(Llama2SpmModel model) : LlamaCppOracleTests<Llama2SpmModel>(model), IClassFixture<Llama2SpmModel>;

public sealed class Llama3BpeOracleTests(Llama3BpeModel model) : LlamaCppOracleTests<Llama3BpeModel>(model), IClassFixture<Llama3BpeModel>;
