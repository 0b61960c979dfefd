using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests;

/// <summary>
/// Small random-weight GGUF files written by the formats library's factory into a temp folder, once per
/// test run and type (real files, read back through the memory-mapped GGUF reader).
/// </summary>
public static class TinyModels
{
    private static readonly TempDir Dir = new("alpaca-inference-models");
    private static readonly Dictionary<string, string> Paths = [];
    private static readonly object Gate = new();

    /// <summary>dim 64, 2 layers, 4 heads / 2 KV heads (GQA), FFN 192, vocab 384, random norm gains.</summary>
    public static string Path(GgmlType type, bool tied = false, float ropeTheta = 10000f)
    {
        var key = $"{type}-{tied}-{ropeTheta}";
        lock (Gate)
        {
            if (!Paths.TryGetValue(key, out var path))
            {
                path = Dir.File($"tiny-{key}.gguf");
                var config = TinyModelFactory.Tiny() with { TiedEmbeddings = tied, RopeTheta = ropeTheta };
                TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, RandomNorms = true, Seed = 99, InitStd = 0.08f }, type);
                Paths[key] = path;
            }

            return path;
        }
    }
}
