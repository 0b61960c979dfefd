using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Conversion;

public class ConversionRoundTripTests
{
    private static readonly TinyModelSpec Spec = new() { Config = TinyModelFactory.Tiny(), Seed = 11, RandomNorms = true };

    [Fact]
    public void Hf_to_gguf_f32_applies_the_qk_permutation_and_nothing_else()
    {
        using var dir = new TempDir("conv-f32");
        var hf = Path.Combine(dir.Path, "hf");
        TinyModelFactory.WriteHf(hf, Spec);
        HfToGgufConverter.Convert(hf, dir.File("m.gguf"), GgmlType.F32);

        using var g = GgufFile.Open(dir.File("m.gguf"));
        using var c = SafetensorsCheckpoint.Open(hf);
        Assert.Equal(Spec.Config, LlamaConfig.FromGguf(g));
        foreach (var (name, shape) in LlamaTensorNames.Expected(Spec.Config))
        {
            Assert.Equal(TinyModelFactory.Weight(Spec, name, shape), g.ReadAsFloat32(g.GetTensor(name)));
        }

        // Independent check of the permutation on real rows: GGUF row 2i+1 of head h is HF row h·hd + hd/2 + i.
        var hd = Spec.Config.HeadDim;
        var hfK = c.ReadAsFloat32("model.layers.1.self_attn.k_proj.weight");
        var ggK = g.ReadAsFloat32(g.GetTensor("blk.1.attn_k.weight"));
        var dim = Spec.Config.Dim;
        for (var h = 0; h < Spec.Config.NKvHeads; h++)
        {
            for (var i = 0; i < hd / 2; i++)
            {
                Assert.Equal(hfK.AsSpan(((h * hd) + i) * dim, dim).ToArray(), ggK.AsSpan(((h * hd) + (2 * i)) * dim, dim).ToArray());
                Assert.Equal(hfK.AsSpan(((h * hd) + (hd / 2) + i) * dim, dim).ToArray(), ggK.AsSpan(((h * hd) + (2 * i) + 1) * dim, dim).ToArray());
            }
        }

        Assert.Equal(LlamaVocabulary.CreateByteFallback(384).Tokens, g.Metadata.GetArray<string>("tokenizer.ggml.tokens"));
    }

    [Fact]
    public void Hf_to_gguf_to_hf_f32_is_exact()
    {
        using var dir = new TempDir("conv-rt32");
        var hf = Path.Combine(dir.Path, "hf");
        var back = Path.Combine(dir.Path, "back");
        TinyModelFactory.WriteHf(hf, Spec);
        ModelConverter.Convert(hf, dir.File("m.gguf"), "f32");
        ModelConverter.Convert(dir.File("m.gguf"), back, "f32");

        using var a = SafetensorsCheckpoint.Open(hf);
        using var b = SafetensorsCheckpoint.Open(back);
        Assert.Equal(a.TensorNames.Order(), b.TensorNames.Order());
        foreach (var name in a.TensorNames)
        {
            Assert.Equal(a.ReadAsFloat32(name), b.ReadAsFloat32(name));
        }

        Assert.Equal(LlamaConfig.FromHfConfigJson(File.ReadAllText(Path.Combine(hf, "config.json"))), LlamaConfig.FromHfConfigJson(File.ReadAllText(Path.Combine(back, "config.json"))));
        Assert.Equal(File.ReadAllBytes(Path.Combine(hf, "tokenizer.model")), File.ReadAllBytes(Path.Combine(back, "tokenizer.model")));
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Quantized_round_trip_stays_within_the_codec_error(GgmlType type)
    {
        using var dir = new TempDir("conv-q");
        var hf = Path.Combine(dir.Path, "hf");
        var back = Path.Combine(dir.Path, "back");
        TinyModelFactory.WriteHf(hf, Spec);
        HfToGgufConverter.Convert(hf, dir.File("m.gguf"), type);
        GgufToHfConverter.Convert(dir.File("m.gguf"), back, SafetensorsDType.F32);

        using var g = GgufFile.Open(dir.File("m.gguf"));
        Assert.Equal(GgmlType.F32, g.GetTensor("blk.0.attn_norm.weight").Type);
        Assert.Equal(type, g.GetTensor("blk.0.ffn_up.weight").Type);
        Assert.Equal(type == GgmlType.F16 ? 1 : type == GgmlType.Q8_0 ? 7 : 2, g.Metadata.GetInteger("general.file_type"));

        using var a = SafetensorsCheckpoint.Open(hf);
        using var b = SafetensorsCheckpoint.Open(back);
        var maxError = type switch { GgmlType.F16 => 0.0005, GgmlType.Q8_0 => 0.01, _ => 0.15 }; // relative to block amax
        foreach (var name in a.TensorNames)
        {
            var x = a.ReadAsFloat32(name);
            var y = b.ReadAsFloat32(name);
            var amax = x.Max(Math.Abs);
            var worst = x.Zip(y).Max(p => Math.Abs(p.First - p.Second));
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                Assert.Equal(x, y); // norms stay F32
            }
            else
            {
                Assert.True(worst <= maxError * amax, $"{name}: worst error {worst} vs amax {amax}");
                Assert.True(worst > 0 || type == GgmlType.F16, $"{name}: {type} should not be lossless");
            }
        }
    }

    [Fact]
    public void Sharded_bf16_checkpoint_converts()
    {
        using var dir = new TempDir("conv-shard");
        var hf = Path.Combine(dir.Path, "hf");
        TinyModelFactory.WriteHf(hf, Spec, SafetensorsDType.BF16, maxShardBytes: 20_000);
        Assert.True(File.Exists(Path.Combine(hf, SafetensorsCheckpoint.IndexFileName)));
        Assert.True(Directory.GetFiles(hf, "model-*.safetensors").Length > 3);
        HfToGgufConverter.Convert(hf, dir.File("m.gguf"), GgmlType.F32);
        using var g = GgufFile.Open(dir.File("m.gguf"));
        var expected = TinyModelFactory.Weight(Spec, "blk.1.ffn_gate.weight", [64, 192]).Select(v => HalfConverter.Bf16ToFloat(HalfConverter.FloatToBf16(v)));
        Assert.Equal(expected, g.ReadAsFloat32(g.GetTensor("blk.1.ffn_gate.weight")));
    }

    [Fact]
    public void Rows_that_do_not_fit_quant_blocks_fall_back_to_f16()
    {
        using var dir = new TempDir("conv-fallback");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(dim: 48, heads: 4, kvHeads: 4, ffn: 96) };
        TinyModelFactory.WriteGguf(dir.File("m.gguf"), spec, GgmlType.Q8_0);
        using var g = GgufFile.Open(dir.File("m.gguf"));
        Assert.Equal(GgmlType.F16, g.GetTensor("blk.0.attn_q.weight").Type); // rows of 48
        Assert.Equal(GgmlType.Q8_0, g.GetTensor("blk.0.ffn_down.weight").Type); // rows of 96
    }

    [Fact]
    public void Tied_embeddings_have_no_output_tensor_either_way()
    {
        using var dir = new TempDir("conv-tied");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny() with { TiedEmbeddings = true } };
        TinyModelFactory.WriteHf(Path.Combine(dir.Path, "hf"), spec);
        HfToGgufConverter.Convert(Path.Combine(dir.Path, "hf"), dir.File("m.gguf"), GgmlType.F16);
        using var g = GgufFile.Open(dir.File("m.gguf"));
        Assert.False(g.TryGetTensor("output.weight", out _));
        Assert.True(LlamaConfig.FromGguf(g).TiedEmbeddings);
    }

    [Fact]
    public void Requantizing_gguf_to_gguf_keeps_the_model()
    {
        using var dir = new TempDir("conv-requant");
        TinyModelFactory.WriteGguf(dir.File("f32.gguf"), Spec);
        ModelConverter.Convert(dir.File("f32.gguf"), dir.File("q8.gguf"), "q8_0");
        using var g = GgufFile.Open(dir.File("q8.gguf"));
        var w = TinyModelFactory.Weight(Spec, "blk.0.attn_v.weight", [64, 32]);
        Assert.Equal(Quantizer.Quantize(GgmlType.Q8_0, w), g.GetTensorBytes(g.GetTensor("blk.0.attn_v.weight")).ToArray());
    }

    [Fact]
    public void Problems_in_the_hf_folder_are_named()
    {
        using var dir = new TempDir("conv-bad");
        var hf = Path.Combine(dir.Path, "hf");
        TinyModelFactory.WriteHf(hf, Spec);

        // config.json promising a third layer that the weights lack.
        var config = File.ReadAllText(Path.Combine(hf, "config.json"));
        File.WriteAllText(Path.Combine(hf, "config.json"), config.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        var e = Assert.Throws<InvalidDataException>(() => HfToGgufConverter.Convert(hf, dir.File("m.gguf"), GgmlType.F16));
        Assert.Contains("model.layers.2.", e.Message);

        // wrong hidden size → shape mismatch names the tensor.
        File.WriteAllText(Path.Combine(hf, "config.json"), config.Replace("\"intermediate_size\": 192", "\"intermediate_size\": 160"));
        e = Assert.Throws<InvalidDataException>(() => HfToGgufConverter.Convert(hf, dir.File("m.gguf"), GgmlType.F16));
        Assert.Contains("mlp.gate_proj.weight", e.Message);
        Assert.Contains("[160, 64]", e.Message);

        // no tokenizer at all.
        File.WriteAllText(Path.Combine(hf, "config.json"), config);
        File.Delete(Path.Combine(hf, "tokenizer.model"));
        var missing = Assert.Throws<FileNotFoundException>(() => HfToGgufConverter.Convert(hf, dir.File("m.gguf"), GgmlType.F16));
        Assert.Contains("--vocab", missing.Message);
        Assert.False(File.Exists(dir.File("m.gguf")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
    }

    [Fact]
    public void Vocabulary_can_come_from_another_gguf_and_is_padded_to_vocab_size()
    {
        using var dir = new TempDir("conv-vocab");
        var hf = Path.Combine(dir.Path, "hf");
        TinyModelFactory.WriteHf(hf, new TinyModelSpec { Config = TinyModelFactory.Tiny(vocab: 400) });
        File.Delete(Path.Combine(hf, "tokenizer.model"));
        TinyModelFactory.WriteGguf(dir.File("donor.gguf"), new TinyModelSpec { Config = TinyModelFactory.Tiny(vocab: 384) });
        HfToGgufConverter.Convert(hf, dir.File("m.gguf"), GgmlType.F16, vocabularyPath: dir.File("donor.gguf"));
        using var g = GgufFile.Open(dir.File("m.gguf"));
        var tokens = g.Metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        Assert.Equal(400, tokens.Length);
        Assert.Equal("<pad_15>", tokens[^1]);
        Assert.Equal((int)TokenType.Unused, g.Metadata.GetArray<int>("tokenizer.ggml.token_type")![^1]);
    }
}
