using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.Gguf;

/// <summary>Small GGUF images used by several test classes.</summary>
internal static class GgufTestFiles
{
    /// <summary>A valid small file: a few KVs of different types, three tensors of different ggml types.</summary>
    public static byte[] Small()
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.architecture", GgufValue.String("llama"));
        w.Metadata.Set("llama.block_count", GgufValue.UInt32(2));
        w.Metadata.Set("tokenizer.ggml.tokens", GgufValue.Array(["<unk>", "a", "b"]));
        w.Metadata.Set("tokenizer.ggml.scores", GgufValue.Array([0f, -1f, -2f]));
        w.Metadata.Set("flag", GgufValue.Bool(true));
        w.Metadata.Set("nested", GgufValue.Array([GgufValue.Array([1, 2]), GgufValue.Array(["x"])]));
        w.AddTensor("a.weight", [4, 2], GgmlType.F32, Enumerable.Range(0, 8).Select(i => (float)i).ToArray());
        w.AddTensor("b.weight", [32, 1], GgmlType.Q8_0, Enumerable.Range(0, 32).Select(i => i / 10f).ToArray());
        w.AddTensor("c.weight", [3], GgmlType.F16, [1f, 2f, 3f]);
        return ToBytes(w);
    }

    public static byte[] ToBytes(GgufWriter w)
    {
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        return ms.ToArray();
    }
}
