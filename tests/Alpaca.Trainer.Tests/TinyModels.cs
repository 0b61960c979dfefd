using Alpaca.Llm.Models;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Model;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests;

/// <summary>Small shapes that exercise every path (GQA, untied head) in milliseconds.</summary>
internal static class TinyModels
{
    public static LlamaConfig Config(bool tied = false, int vocab = 61) => new()
    {
        VocabSize = vocab,
        Dim = 32,
        FfnDim = 48,
        NLayers = 2,
        NHeads = 4,
        NKvHeads = 2,
        ContextLength = 128,
        RmsNormEps = 1e-5f,
        RopeTheta = 10000,
        TiedEmbeddings = tied,
        InitializerRange = 0.2,
    };

    /// <summary>A randomly initialised model; a larger init range than HF's 0.02 makes logits differ visibly.</summary>
    public static LlamaForCausalLM Create(LlamaConfig? config = null, LoraSettings? lora = null, ulong seed = 7)
    {
        var model = new LlamaForCausalLM(config ?? Config(), new ProjectionFactory(lora, seed));
        ModelWeights.InitializeRandom(model, seed);
        return model;
    }

    /// <summary>Random token ids [rows, columns] in [0, vocab).</summary>
    public static Tensor Tokens(int rows, int columns, int vocab, ulong seed)
    {
        using var g = new Generator(seed, CPU);
        return randint(0, vocab, [rows, columns], dtype: ScalarType.Int64, generator: g);
    }
}
