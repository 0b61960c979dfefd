using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.Models;

/// <summary>
/// The GGUF side of <see cref="LlamaConfig"/>'s one validation: what the engine does not compute is refused
/// when the file is opened, with the message config.json gets for the same feature (rope scaling, another
/// architecture), naming the GGUF key and value.
/// </summary>
public class GgufConfigRefusalTests
{
    private static GgufFile File(Action<GgufWriter> edit)
    {
        var w = new GgufWriter();
        TinyModelFactory.Tiny().ApplyTo(w.Metadata);
        edit(w);
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        return GgufFile.FromBytes(ms.ToArray(), "m.gguf");
    }

    public static TheoryData<string, string> RopeScaling => new()
    {
        { "yarn", "'llama.rope.scaling.type' is 'yarn'" },
        { "rope_freqs no llama3 scaling reproduces", "tensor 'rope_freqs.weight' holds frequency factors [0, 0, 0, 0, 0, 0, 0, 0] that no llama3 rope scaling (original context 8192) reproduces" },
    };

    [Theory]
    [MemberData(nameof(RopeScaling))]
    public void Rope_scaling_is_refused_naming_key_and_value(string variant, string found)
    {
        using var g = File(w =>
        {
            switch (variant)
            {
                case "yarn":
                    w.Metadata.Set("llama.rope.scaling.type", GgufValue.String("yarn"));
                    break;
                default:
                    w.AddTensor(LlamaConfig.RopeFreqsTensor, [8], GgmlType.F32, new float[8]);
                    break;
            }
        });
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(g));
        Assert.Equal(LlamaSupport.RopeScaling("m.gguf", found).Message, e.Message);
    }

    [Theory]
    [InlineData("llama.rope.scaling.factor", 4.0)]
    [InlineData("llama.rope.scale_linear", 2.0)] // the older key llama.cpp still reads
    public void Linear_rope_scaling_is_read_as_llama_cpp_reads_it(string key, double factor)
    {
        using var g = File(w =>
        {
            w.Metadata.Set("llama.rope.scaling.type", GgufValue.String("linear"));
            w.Metadata.Set(key, GgufValue.Float32((float)factor));
        });
        var config = LlamaConfig.FromGguf(g);
        Assert.Equal(factor, config.RopeLinearFactor);
        Assert.Equal(Enumerable.Repeat((float)factor, 8), config.RopeFrequencyDivisors(16)!);

        // Written back as convert_hf_to_gguf.py writes it, and read again the same.
        var w2 = new GgufWriter();
        config.ApplyTo(w2.Metadata);
        Assert.Equal("linear", w2.Metadata.GetString("llama.rope.scaling.type"));
        Assert.Equal(factor, w2.Metadata.GetNumber("llama.rope.scaling.factor"));
    }

    [Fact]
    public void Plain_rope_spelled_out_is_accepted()
    {
        using var g = File(w =>
        {
            w.Metadata.Set("llama.rope.scaling.type", GgufValue.String("none"));
            w.Metadata.Set("llama.rope.scaling.factor", GgufValue.Float32(1f));
        });
        Assert.Equal(TinyModelFactory.Tiny() with { TiedEmbeddings = true }, LlamaConfig.FromGguf(g)); // no output.weight: tied
    }

    [Fact]
    public void Another_architecture_and_a_bad_shape_are_named_with_gguf_keys()
    {
        using var gpt2 = File(w => w.Metadata.Set("general.architecture", GgufValue.String("gpt2")));
        Assert.Equal("m.gguf: 'general.architecture' is 'gpt2'; only LLaMA-architecture models are supported.",
            Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(gpt2)).Message);

        using var ratio = File(w => w.Metadata.Set("llama.attention.head_count_kv", GgufValue.UInt32(3)));
        Assert.Equal("m.gguf: 'llama.attention.head_count' (4) must be a multiple of 'llama.attention.head_count_kv' (3).",
            Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(ratio)).Message);
    }

    [Theory]
    [InlineData("blk.0.attn_q.bias", "tensor 'blk.0.attn_q.bias' is present: a bias on a projection is not supported")]
    [InlineData("blk.1.ffn_gate_exps.weight", "tensor 'blk.1.ffn_gate_exps.weight' is present: mixture of experts is not supported")]
    [InlineData("blk.2.attn_norm.weight", "tensor 'blk.2.attn_norm.weight' is present: a block beyond 'llama.block_count' (2) is not supported")]
    [InlineData("rope_factors_long.weight", "tensor 'rope_factors_long.weight' is present: a tensor outside the LLaMA architecture is not supported")]
    public void A_tensor_the_engine_would_ignore_is_refused_naming_the_feature(string name, string message)
    {
        using var g = File(w => w.AddTensor(name, [64], GgmlType.F32, new float[64]));
        Assert.Equal($"m.gguf: {message} (plain LLaMA blocks only), so the model would be computed wrongly.",
            Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(g)).Message);
    }

    [Fact]
    public void Mixtral_experts_are_refused_by_their_key()
    {
        using var g = File(w => w.Metadata.Set("llama.expert_count", GgufValue.UInt32(8)));
        Assert.Equal("m.gguf: 'llama.expert_count' is 8: mixture-of-experts (Mixtral-style) LLaMA models are not supported.",
            Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(g)).Message);
    }

    [Fact]
    public void Different_key_and_value_head_sizes_are_refused_by_their_keys()
    {
        using var g = File(w => w.Metadata.Set("llama.attention.value_length", GgufValue.UInt32(32)));
        Assert.Equal("m.gguf: 'llama.attention.value_length' is 32 but the key head size is 16: separate key and value head sizes are not supported.",
            Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(g)).Message);
    }
}
