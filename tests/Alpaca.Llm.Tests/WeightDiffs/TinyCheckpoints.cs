using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Tests.WeightDiffs;

/// <summary>
/// Sharded base/tuned checkpoint pairs written by the tests: tuned = base + a small delta for most elements, with a
/// few sign flips and large jumps, the elements whose <c>base + (tuned − base)</c> does not round back to tuned.
/// </summary>
internal static class TinyCheckpoints
{
    public static readonly (string Name, long[] Shape)[] Tensors =
    [
        ("model.embed_tokens.weight", [40, 16]),
        ("model.layers.0.self_attn.q_proj.weight", [16, 16]),
        ("model.layers.0.mlp.up_proj.weight", [24, 16]),
        ("model.norm.weight", [16]),
        ("lm_head.weight", [40, 16]),
    ];

    /// <summary>Writes base and tuned folders (sharded, index, config.json, tokenizer.json) and returns their paths.</summary>
    public static (string Base, string Tuned) WritePair(string root, SafetensorsDType dtype, int seed = 1)
    {
        var random = new Random(seed);
        var basePath = Path.Combine(root, "base");
        var tunedPath = Path.Combine(root, "tuned");
        var baseWriter = new SafetensorsCheckpointWriter { MaxShardBytes = 1500 };
        var tunedWriter = new SafetensorsCheckpointWriter { MaxShardBytes = 1500 };
        foreach (var (name, shape) in Tensors)
        {
            var n = (int)shape.Aggregate(1L, (a, d) => a * d);
            var b = new float[n];
            var t = new float[n];
            for (var i = 0; i < n; i++)
            {
                b[i] = (float)((random.NextDouble() - 0.5) * 0.2);
                t[i] = (i % 17) switch
                {
                    0 => -b[i] * 0.7f,                                  // a sign change
                    1 => b[i] * 3.3f,                                   // more than twice the base
                    2 => b[i],                                          // unchanged: a zero diff
                    _ => b[i] + (float)((random.NextDouble() - 0.5) * 0.01),
                };
            }

            baseWriter.Add(name, dtype, shape, Encode(dtype, b));
            tunedWriter.Add(name, dtype, shape, Encode(dtype, t));
        }

        baseWriter.WriteTo(basePath);
        tunedWriter.WriteTo(tunedPath);
        File.WriteAllText(Path.Combine(tunedPath, "config.json"), """{"architectures": ["LlamaForCausalLM"], "hidden_size": 16}""");
        File.WriteAllText(Path.Combine(tunedPath, "tokenizer.json"), """{"model": {"type": "BPE"}}""");
        return (basePath, tunedPath);
    }

    public static byte[] Encode(SafetensorsDType dtype, float[] values)
    {
        var size = SafetensorsDTypes.ElementSize(dtype);
        var bytes = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case SafetensorsDType.F32:
                    BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
                    break;
                case SafetensorsDType.F16:
                    BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), HalfConverter.FloatToHalf(values[i]));
                    break;
                default:
                    BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), HalfConverter.FloatToBf16(values[i]));
                    break;
            }
        }

        return bytes;
    }

    /// <summary>Every tensor's bytes, by name.</summary>
    public static Dictionary<string, byte[]> ReadAll(string dir)
    {
        using var c = SafetensorsCheckpoint.Open(dir);
        var all = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in c.TensorNames)
        {
            c.TryGetTensor(name, out var file, out var info);
            all[name] = file.GetTensorBytes(info).ToArray();
        }

        return all;
    }
}
