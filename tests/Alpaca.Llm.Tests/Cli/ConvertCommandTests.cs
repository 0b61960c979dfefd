using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Cli;

/// <summary>Runs the built <c>alpaca convert</c> as a real process on real files.</summary>
public class ConvertCommandTests
{
    /// <summary>The exit code; the command's standard error is the failure message when it is not the expected one.</summary>
    private static void AssertExit(int expected, params string[] args)
    {
        var (code, _, err) = AlpacaCli.Run(args);
        Assert.True(code == expected, $"alpaca {string.Join(' ', args)} exited with {code}, not {expected}:\n{err}");
    }

    [Fact]
    public void Hf_folder_to_q4_0_gguf_and_back_to_an_hf_folder()
    {
        using var dir = new TempDir("cli-convert");
        var hf = Path.Combine(dir.Path, "hf");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny() };
        TinyModelFactory.WriteHf(hf, spec);

        AssertExit(0, "convert", "--from", hf, "--to", dir.File("m.gguf"), "--type", "q4_0");
        using (var g = GgufFile.Open(dir.File("m.gguf")))
        {
            Assert.Equal(GgmlType.Q4_0, g.GetTensor("blk.0.attn_q.weight").Type);
            Assert.Equal(2, g.Metadata.GetInteger("general.file_type"));
            var w = TinyModelFactory.Weight(spec, "blk.1.ffn_up.weight", [64, 192]);
            Assert.Equal(Quantizer.Quantize(GgmlType.Q4_0, w), g.GetTensorBytes(g.GetTensor("blk.1.ffn_up.weight")).ToArray());
        }

        var back = Path.Combine(dir.Path, "back");
        AssertExit(0, "convert", "--from", dir.File("m.gguf"), "--to", back, "--type", "f16");
        using var c = SafetensorsCheckpoint.Open(back);
        Assert.Equal(SafetensorsDType.F16, c.GetInfo("model.layers.0.self_attn.q_proj.weight").DType);
        Assert.Contains("\"torch_dtype\": \"float16\"", File.ReadAllText(Path.Combine(back, "config.json")));
    }

    [Fact]
    public void Hf_folder_to_q4_k_m_gguf_with_llama_quantizes_per_tensor_types()
    {
        using var dir = new TempDir("cli-convert-kq");
        var hf = Path.Combine(dir.Path, "hf");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(dim: 256, layers: 2, ffn: 512, vocab: 384) };
        TinyModelFactory.WriteHf(hf, spec);

        AssertExit(0, "convert", "--from", hf, "--to", dir.File("m.gguf"), "--type", "q4_k_m");
        using var g = GgufFile.Open(dir.File("m.gguf"));
        Assert.Equal(15, g.Metadata.GetInteger("general.file_type"));
        Assert.Equal(GgmlType.Q6_K, g.GetTensor("output.weight").Type);
        Assert.Equal(GgmlType.Q6_K, g.GetTensor("blk.1.ffn_down.weight").Type); // use_more_bits(1, 2): the last eighth
        Assert.Equal(GgmlType.Q4_K, g.GetTensor("blk.0.attn_q.weight").Type);
        var w = TinyModelFactory.Weight(spec, "blk.1.ffn_up.weight", [256, 512]);
        Assert.Equal(Quantizer.Quantize(GgmlType.Q4_K, w), g.GetTensorBytes(g.GetTensor("blk.1.ffn_up.weight")).ToArray());
    }

    [Fact]
    public void Tiny_subcommand_writes_a_loadable_model()
    {
        using var dir = new TempDir("cli-tiny");
        AssertExit(0, "convert", "tiny", "--to", dir.File("t.gguf"), "--shape", "64,2,4,1,128,300,32", "--type", "q8_0");
        using var g = GgufFile.Open(dir.File("t.gguf"));
        var config = LlamaConfig.FromGguf(g);
        Assert.Equal((64, 2, 4, 1, 128, 300, 32), (config.Dim, config.NLayers, config.NHeads, config.NKvHeads, config.FfnDim, config.VocabSize, config.ContextLength));
        AssertExit(0, "convert", "inspect", dir.File("t.gguf"));
    }

    [Fact]
    public void Bad_input_exits_2_without_writing()
    {
        using var dir = new TempDir("cli-bad");
        AssertExit(2, "convert", "--from", dir.File("missing"), "--to", dir.File("x.gguf"));
        File.WriteAllBytes(dir.File("junk.gguf"), "GGUF\u0003\0\0\0"u8.ToArray());
        AssertExit(2, "convert", "--from", dir.File("junk.gguf"), "--to", dir.File("out"));
        TinyModelFactory.WriteHf(dir.File("hf"), new TinyModelSpec { Config = TinyModelFactory.Tiny() });
        AssertExit(2, "convert", "--from", dir.File("hf"), "--to", dir.File("x.gguf"), "--type", "q5_0"); // no such --type
        Assert.False(File.Exists(dir.File("x.gguf")));
        AssertExit(2, "convert", "inspect", dir.File("junk.gguf"));
    }
}
