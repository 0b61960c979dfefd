using Alpaca.Cli.Commands;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.SafeTensors;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Cli;

/// <summary>Runs the real <c>alpaca convert</c> command tree in-process on real files.</summary>
public class ConvertCommandTests
{
    private static Task<int> Alpaca(params string[] args) => CommandCatalog.BuildRoot().Parse(args).InvokeAsync();

    [Fact]
    public async Task Hf_folder_to_q4_0_gguf_and_back_to_an_hf_folder()
    {
        using var dir = new TempDir("cli-convert");
        var hf = Path.Combine(dir.Path, "hf");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny() };
        TinyModelFactory.WriteHf(hf, spec);

        Assert.Equal(0, await Alpaca("convert", "--from", hf, "--to", dir.File("m.gguf"), "--type", "q4_0"));
        using (var g = GgufFile.Open(dir.File("m.gguf")))
        {
            Assert.Equal(GgmlType.Q4_0, g.GetTensor("blk.0.attn_q.weight").Type);
            Assert.Equal(2, g.Metadata.GetInteger("general.file_type"));
            var w = TinyModelFactory.Weight(spec, "blk.1.ffn_up.weight", [64, 192]);
            Assert.Equal(Quantizer.Quantize(GgmlType.Q4_0, w), g.GetTensorBytes(g.GetTensor("blk.1.ffn_up.weight")).ToArray());
        }

        var back = Path.Combine(dir.Path, "back");
        Assert.Equal(0, await Alpaca("convert", "--from", dir.File("m.gguf"), "--to", back, "--type", "f16"));
        using var c = SafeTensorsCheckpoint.Open(back);
        Assert.Equal(SafeTensorsDType.F16, c.GetInfo("model.layers.0.self_attn.q_proj.weight").DType);
        Assert.Contains("\"torch_dtype\": \"float16\"", File.ReadAllText(Path.Combine(back, "config.json")));
    }

    [Fact]
    public async Task Tiny_subcommand_writes_a_loadable_model()
    {
        using var dir = new TempDir("cli-tiny");
        Assert.Equal(0, await Alpaca("convert", "tiny", "--to", dir.File("t.gguf"), "--shape", "64,2,4,1,128,300,32", "--type", "q8_0"));
        using var g = GgufFile.Open(dir.File("t.gguf"));
        var config = LlamaConfig.FromGguf(g);
        Assert.Equal((64, 2, 4, 1, 128, 300, 32), (config.Dim, config.NLayers, config.NHeads, config.NKvHeads, config.FfnDim, config.VocabSize, config.ContextLength));
        Assert.Equal(0, await Alpaca("convert", "inspect", dir.File("t.gguf")));
    }

    [Fact]
    public async Task Bad_input_exits_2_without_writing()
    {
        using var dir = new TempDir("cli-bad");
        Assert.Equal(2, await Alpaca("convert", "--from", dir.File("missing"), "--to", dir.File("x.gguf")));
        File.WriteAllBytes(dir.File("junk.gguf"), "GGUF\u0003\0\0\0"u8.ToArray());
        Assert.Equal(2, await Alpaca("convert", "--from", dir.File("junk.gguf"), "--to", dir.File("out")));
        TinyModelFactory.WriteHf(dir.File("hf"), new TinyModelSpec { Config = TinyModelFactory.Tiny() });
        Assert.Equal(2, await Alpaca("convert", "--from", dir.File("hf"), "--to", dir.File("x.gguf"), "--type", "q5_k"));
        Assert.False(File.Exists(dir.File("x.gguf")));
        Assert.Equal(2, await Alpaca("convert", "inspect", dir.File("junk.gguf")));
    }
}
