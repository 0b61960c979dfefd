using Alpaca.Llm.Chat;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Export;
using Alpaca.Trainer.Training;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Export;

public sealed class GgufExportTests
{
    [Fact]
    public void Exported_gguf_carries_our_vocabulary_and_weights_in_llama_cpp_layout()
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer.WithAddedPad();
        var config = TinyModels.Config() with { VocabSize = tokenizer.Count, Dim = 64, FfnDim = 96, PadTokenId = tokenizer.PadTokenId };
        using var model = TinyModels.Create(config);
        using var dir = new TempDir("gguf");
        HfCheckpoint.Save(dir.Path, model, ScalarType.Float32, false, tokenizer, null, null, 512);

        var path = GgufExporter.Export(dir.Path, GgufExportType.F16);
        Assert.Equal(dir.File("model-f16.gguf"), path);
        using var gguf = GgufFile.Open(path);
        Assert.Equal("llama", gguf.Architecture);

        // The vocabulary comes from the tokenizer.model we wrote: the converter reads our protobuf back.
        var vocab = LlamaVocabulary.FromGguf(gguf.Metadata)!;
        Assert.Equal(tokenizer.Count, vocab.Count);
        Assert.Equal(("<unk>", "<s>", "</s>", "<0x41>"), (vocab.Tokens[0], vocab.Tokens[1], vocab.Tokens[2], vocab.Tokens[3 + 0x41]));
        Assert.Equal(TinyTokenizerFixture.Tokenizer.Encode("the"), [1, Array.IndexOf(vocab.Tokens, TinyBpeTrainer.Space + "the")]);
        Assert.Equal(("[PAD]", TokenType.Control, tokenizer.PadTokenId), (vocab.Tokens[^1], vocab.Types[^1], vocab.PaddingTokenId));

        // Trained on Alpaca prompts, so it carries the Alpaca chat template (llama.cpp and transformers prompt it the same way).
        Assert.Equal(AlpacaChatFormat.JinjaSource, vocab.ChatTemplate);

        // Weights: embeddings unchanged, Wq rows permuted to llama.cpp's interleaved rotary pairs (F16 precision).
        var state = model.state_dict();
        AssertClose(state["model.embed_tokens.weight"], gguf.ReadAsFloat32(gguf.GetTensor("token_embd.weight")));
        var q = state["model.layers.1.self_attn.q_proj.weight"];
        var expected = QkPermutation.HfToGguf(q.data<float>().ToArray(), config.NHeads, config.Dim);
        AssertClose(tensor(expected), gguf.ReadAsFloat32(gguf.GetTensor("blk.1.attn_q.weight")));
        var k = state["model.layers.0.self_attn.k_proj.weight"];
        var expectedK = QkPermutation.HfToGguf(k.data<float>().ToArray(), config.NKvHeads, config.Dim);
        AssertClose(tensor(expectedK), gguf.ReadAsFloat32(gguf.GetTensor("blk.0.attn_k.weight")));
    }

    [Theory]
    [InlineData(GgufExportType.Q8_0)]
    [InlineData(GgufExportType.Q4_0)]
    public void Quantized_exports_are_written(GgufExportType type)
    {
        var config = TinyModels.Config() with { VocabSize = TinyTokenizerFixture.Tokenizer.Count, Dim = 64, FfnDim = 128 };
        using var model = TinyModels.Create(config);
        using var dir = new TempDir("gguf-q");
        HfCheckpoint.Save(dir.Path, model, ScalarType.Float32, false, TinyTokenizerFixture.Tokenizer, null, null, 512);
        using var gguf = GgufFile.Open(GgufExporter.Export(dir.Path, type));
        Assert.Equal(type.ToString(), gguf.GetTensor("blk.0.ffn_up.weight").Type.ToString());
        Assert.Equal("F32", gguf.GetTensor("blk.0.attn_norm.weight").Type.ToString());
    }

    private static void AssertClose(Tensor expected, float[] actual)
    {
        var e = expected.contiguous().data<float>().ToArray();
        Assert.Equal(e.Length, actual.Length);
        for (var i = 0; i < e.Length; i++)
        {
            // F16 keeps 11 significant bits: relative error ≤ 2^-11 plus subnormal slack.
            Assert.True(Math.Abs(e[i] - actual[i]) <= (Math.Abs(e[i]) * 1e-3) + 1e-6, $"element {i}: {e[i]} vs {actual[i]}");
        }
    }
}
