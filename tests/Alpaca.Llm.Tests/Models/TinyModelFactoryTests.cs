using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Models;

public class TinyModelFactoryTests
{
    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Gguf_has_every_llama_tensor_in_the_requested_type(GgmlType type)
    {
        using var dir = new TempDir("tiny");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(), Seed = 42 };
        TinyModelFactory.WriteGguf(dir.File("m.gguf"), spec, type);
        using var g = GgufFile.Open(dir.File("m.gguf"));
        var expected = LlamaTensorNames.Expected(spec.Config);
        Assert.Equal(expected.Select(e => e.Name), g.Tensors.Select(t => t.Name));
        foreach (var (name, shape) in expected)
        {
            var t = g.GetTensor(name);
            Assert.Equal(shape, t.Shape);
            Assert.Equal(shape.Length == 1 ? GgmlType.F32 : type, t.Type);
        }

        // GQA shapes: K/V have n_kv_head·head_dim rows.
        Assert.Equal(new long[] { 64, 32 }, g.GetTensor("blk.1.attn_k.weight").Shape);
        Assert.All(g.ReadAsFloat32(g.GetTensor("output_norm.weight")), v => Assert.Equal(1f, v));
        var q = g.ReadAsFloat32(g.GetTensor("blk.0.attn_q.weight"));
        var std = Math.Sqrt(q.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.017, 0.023); // N(0, 0.02²)
    }

    [Fact]
    public void Same_seed_same_bytes_other_seed_other_weights()
    {
        using var dir = new TempDir("tiny-seed");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny() };
        TinyModelFactory.WriteGguf(dir.File("a.gguf"), spec, GgmlType.Q4_0);
        TinyModelFactory.WriteGguf(dir.File("b.gguf"), spec, GgmlType.Q4_0);
        TinyModelFactory.WriteGguf(dir.File("c.gguf"), spec with { Seed = 7 }, GgmlType.Q4_0);
        Assert.Equal(File.ReadAllBytes(dir.File("a.gguf")), File.ReadAllBytes(dir.File("b.gguf")));
        Assert.NotEqual(File.ReadAllBytes(dir.File("a.gguf")), File.ReadAllBytes(dir.File("c.gguf")));
        var w1 = TinyModelFactory.Weight(spec, "blk.0.attn_q.weight", [64, 64]);
        var w2 = TinyModelFactory.Weight(spec, "blk.0.attn_k.weight", [64, 64]);
        Assert.NotEqual(w1, w2); // each tensor has its own stream
    }

    [Fact]
    public void Vocabulary_is_llama_style_byte_fallback()
    {
        using var dir = new TempDir("tiny-vocab");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(vocab: 1000) };
        TinyModelFactory.WriteGguf(dir.File("m.gguf"), spec);
        using var g = GgufFile.Open(dir.File("m.gguf"));
        var md = g.Metadata;
        Assert.Equal("llama", md.GetString("tokenizer.ggml.model"));
        var tokens = md.GetArray<string>("tokenizer.ggml.tokens")!;
        var types = md.GetArray<int>("tokenizer.ggml.token_type")!;
        var scores = md.GetArray<float>("tokenizer.ggml.scores")!;
        Assert.Equal(1000, tokens.Length);
        Assert.Equal(new[] { "<unk>", "<s>", "</s>" }, tokens[..3]);
        Assert.Equal(new[] { 2, 3, 3 }, types[..3]);
        for (var b = 0; b < 256; b++)
        {
            Assert.Equal($"<0x{b:X2}>", tokens[3 + b]);
            Assert.Equal(6, types[3 + b]);
        }

        Assert.Contains("▁the", tokens);
        Assert.Equal(tokens.Length, tokens.Distinct().Count());
        Assert.All(scores[259..].Zip(scores[260..]), p => Assert.True(p.First >= p.Second)); // −rank
        Assert.Equal(1, md.GetInteger("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2, md.GetInteger("tokenizer.ggml.eos_token_id"));
        Assert.Equal(0, md.GetInteger("tokenizer.ggml.unknown_token_id"));
        Assert.True(md.GetBool("tokenizer.ggml.add_bos_token"));
    }

    [Fact]
    public void Every_prefix_of_a_vocabulary_word_is_in_the_vocabulary()
    {
        // SentencePiece BPE only reaches a piece through pieces it contains, so "▁upon" needs ▁u, ▁up, ▁upo.
        var vocab = LlamaVocabulary.CreateByteFallback(32000);
        var set = vocab.Tokens.ToHashSet();
        foreach (var word in new[] { "▁Once", "▁upon", "▁time", "▁instruction" })
        {
            for (var n = 2; n <= word.Length; n++)
            {
                Assert.Contains(word[..n], set);
            }
        }

        Assert.Equal(TokenType.Unused, vocab.Types[^1]);
    }

    [Fact]
    public void Caller_vocabulary_is_embedded_including_gpt2_merges()
    {
        using var dir = new TempDir("tiny-gpt2");
        var tokens = Enumerable.Range(0, 300).Select(i => i < 256 ? ((char)(0x100 + i)).ToString() : $"tok{i}").ToArray();
        var vocab = new LlamaVocabulary
        {
            Model = LlamaVocabulary.Gpt2Model,
            PreTokenizer = "default",
            Tokens = tokens,
            Types = tokens.Select(_ => TokenType.Normal).ToArray(),
            Merges = ["Ā ā", "Ă ă"],
            BosTokenId = 298,
            EosTokenId = 299,
            UnknownTokenId = null,
            AddBosToken = false,
        };
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(vocab: 300), Vocabulary = vocab };
        TinyModelFactory.WriteGguf(dir.File("m.gguf"), spec);
        using var g = GgufFile.Open(dir.File("m.gguf"));
        var back = LlamaVocabulary.FromGguf(g.Metadata)!;
        Assert.Equal("gpt2", back.Model);
        Assert.Equal(vocab.Tokens, back.Tokens);
        Assert.Equal(vocab.Merges, back.Merges);
        Assert.Equal("default", back.PreTokenizer);
        Assert.Equal(298, back.BosTokenId);
        Assert.False(g.Metadata.ContainsKey("tokenizer.ggml.scores"));
    }

    [Fact]
    public void Vocabulary_size_must_match_the_config()
    {
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(vocab: 400), Vocabulary = LlamaVocabulary.CreateByteFallback(300) };
        using var dir = new TempDir("tiny-mismatch");
        var e = Assert.Throws<ArgumentException>(() => TinyModelFactory.WriteGguf(dir.File("m.gguf"), spec));
        Assert.Contains("400", e.Message);
        Assert.Throws<ArgumentException>(() => LlamaVocabulary.CreateByteFallback(100));
    }

    [Fact]
    public void Hf_folder_is_the_same_model_in_hf_convention()
    {
        using var dir = new TempDir("tiny-hf");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(), RandomNorms = true };
        TinyModelFactory.WriteHf(dir.Path, spec);
        Assert.True(File.Exists(dir.File("config.json")));
        Assert.True(File.Exists(dir.File("tokenizer.model")));
        using var c = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(new long[] { 384, 64 }, c.GetInfo("model.embed_tokens.weight").Shape); // [vocab, dim]
        Assert.Equal(new long[] { 32, 64 }, c.GetInfo("model.layers.0.self_attn.k_proj.weight").Shape);
        Assert.Equal(TinyModelFactory.Weight(spec, "blk.1.ffn_down.weight", [192, 64]), c.ReadAsFloat32("model.layers.1.mlp.down_proj.weight"));
        Assert.Equal(TinyModelFactory.Weight(spec, "blk.1.attn_norm.weight", [64]), c.ReadAsFloat32("model.layers.1.input_layernorm.weight"));
        // Q rows are permuted: GGUF row 1 (head 0, pair 0, second element) is HF row head_dim/2 = 8.
        var gguf = TinyModelFactory.Weight(spec, "blk.0.attn_q.weight", [64, 64]);
        var hf = c.ReadAsFloat32("model.layers.0.self_attn.q_proj.weight");
        Assert.Equal(gguf.AsSpan(64, 64).ToArray(), hf.AsSpan(8 * 64, 64).ToArray());
        Assert.NotEqual(gguf, hf);
    }

    [Fact]
    public void Named_shapes_match_the_benchmark_table()
    {
        var s = TinyModelFactory.Shape("stories15M");
        Assert.Equal((288, 6, 6, 6, 768, 32000, 256), (s.Dim, s.NLayers, s.NHeads, s.NKvHeads, s.FfnDim, s.VocabSize, s.ContextLength));
        Assert.Equal(24.4, Math.Round(s.ParameterCount / 1e6, 1));
        var t = TinyModelFactory.Shape("tinyllama-1.1B");
        Assert.Equal(4, t.NKvHeads);
        Assert.Equal(134.1, Math.Round(TinyModelFactory.Shape("stories110M").ParameterCount / 1e6, 1));
    }
}
