using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Model;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests;

/// <summary>Small shapes that exercise every path (GQA, untied head) in milliseconds.</summary>
internal static class TinyModels
{
    public static LlamaModelConfig Config(bool tied = false, int vocab = 61) => new()
    {
        VocabSize = vocab,
        HiddenSize = 32,
        IntermediateSize = 48,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 128,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        TieWordEmbeddings = tied,
        InitializerRange = 0.2,
    };

    /// <summary>A randomly initialised model; a larger init range than HF's 0.02 makes logits differ visibly.</summary>
    public static LlamaForCausalLM Create(LlamaModelConfig? config = null, LoraSettings? lora = null, ulong seed = 7)
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
