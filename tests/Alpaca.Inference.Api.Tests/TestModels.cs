using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Api.Tests;

/// <summary>Random-weight GGUF models written once per test run by the formats library's factory (nothing downloaded).</summary>
public static class TestModels
{
    private static readonly TempDir Dir = new("alpaca-inference-api-models");
    private static readonly Dictionary<string, string> Paths = [];
    private static readonly object Gate = new();

    /// <summary>The folder every test model is written to (the test servers' model root).</summary>
    public static string Folder => Dir.Path;

    /// <summary>dim 64, 2 layers, GQA, vocab 384 (byte fallback), context 512 (an Alpaca template fits), Q8_0.</summary>
    public static string Tiny(int seed = 99) => Write($"tiny-{seed}", TinyModelFactory.Tiny(context: 512), seed);

    /// <summary>Wider (dim 256, 4 layers) with a 2048-token context: streams that run for seconds, long enough to be cancelled, expired or swapped under.</summary>
    public static string Long(int seed = 7) => Write($"long-{seed}", TinyModelFactory.Tiny(dim: 256, layers: 4, heads: 4, kvHeads: 2, ffn: 768, context: 2048), seed);

    private static string Write(string key, LlamaConfig config, int seed)
    {
        lock (Gate)
        {
            if (!Paths.TryGetValue(key, out var path))
            {
                path = Dir.File($"{key}.gguf");
                TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, RandomNorms = true, Seed = seed, InitStd = 0.08f, Name = key }, GgmlType.Q8_0);
                Paths[key] = path;
            }

            return path;
        }
    }
}
