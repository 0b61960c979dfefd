using Alpaca.Inference.Model;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Model;

/// <summary>Broken model files give errors that name the file and the tensor.</summary>
public class LoadingTests
{
    [Fact]
    public void A_missing_tensor_is_named()
    {
        using var dir = new TempDir();
        var path = Rewrite(TinyModels.Path(GgmlType.F32), dir.File("missing.gguf"), skip: "blk.1.ffn_up.weight");
        var e = Assert.Throws<InvalidDataException>(() => LlamaWeights.Load(path));
        Assert.Contains("blk.1.ffn_up.weight", e.Message);
        Assert.Contains("missing.gguf", e.Message);
    }

    [Fact]
    public void A_wrong_shape_is_named_with_both_shapes()
    {
        using var dir = new TempDir();
        var path = Rewrite(TinyModels.Path(GgmlType.F32), dir.File("shape.gguf"), reshape: "blk.0.attn_k.weight");
        var e = Assert.Throws<InvalidDataException>(() => LlamaWeights.Load(path));
        Assert.Contains("blk.0.attn_k.weight", e.Message);
        Assert.Contains("expected [64, 32]", e.Message);
    }

    [Fact]
    public void A_nan_in_an_f16_weight_is_reported_with_its_row()
    {
        using var dir = new TempDir();
        var path = Rewrite(TinyModels.Path(GgmlType.F16), dir.File("nan.gguf"), poison: "blk.1.ffn_down.weight");
        var e = Assert.Throws<InvalidDataException>(() => LlamaWeights.Load(path));
        Assert.Contains("blk.1.ffn_down.weight", e.Message);
        Assert.Contains("row 5", e.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => LlamaWeights.Load("/nonexistent/model.gguf"));
        Assert.Contains("/nonexistent/model.gguf", e.Message);
    }

    // Copies a GGUF file tensor by tensor, optionally dropping one, giving one a transposed shape, or
    // writing an fp16 NaN into row 5 of one.
    private static string Rewrite(string source, string target, string? skip = null, string? reshape = null, string? poison = null)
    {
        using var file = GgufFile.Open(source);
        var writer = new GgufWriter();
        foreach (var (key, value) in file.Metadata)
        {
            writer.Metadata.Set(key, value);
        }

        foreach (var t in file.Tensors)
        {
            if (t.Name == skip)
            {
                continue;
            }

            var bytes = file.GetTensorBytes(t).ToArray();
            if (t.Name == poison)
            {
                Assert.Equal(GgmlType.F16, t.Type);
                var at = 5 * t.RowBytes + 6;
                bytes[at] = 0x00;
                bytes[at + 1] = 0x7E; // fp16 NaN
            }

            var shape = t.Name == reshape ? [t.Shape[1], t.Shape[0]] : t.Shape;
            writer.AddTensor(t.Name, shape, t.Type, bytes);
        }

        writer.WriteTo(target);
        return target;
    }
}
