using Alpaca.Llm.Models;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>
/// train.py's <c>smart_tokenizer_and_embedding_resize</c>, done on the weights before the model is
/// built: grow the vocabulary to <c>newVocabSize</c> and set every new row of the input embedding to
/// the mean of its old rows, and every new row of the output head to the mean of the head's old rows.
/// </summary>
public static class EmbeddingResize
{
    public const string EmbeddingKey = "model.embed_tokens.weight";
    public const string HeadKey = "lm_head.weight";

    public static LlamaConfig AddMeanRows(Dictionary<string, Tensor> weights, LlamaConfig config, int newVocabSize)
    {
        var added = newVocabSize - config.VocabSize;
        if (added < 0)
        {
            throw new ArgumentException($"Cannot shrink the vocabulary from {config.VocabSize} to {newVocabSize}.");
        }

        if (added == 0)
        {
            return config;
        }

        weights[EmbeddingKey] = Grow(weights, EmbeddingKey, added);
        if (!config.TiedEmbeddings)
        {
            weights[HeadKey] = Grow(weights, HeadKey, added);
        }

        return config with { VocabSize = newVocabSize };
    }

    private static Tensor Grow(Dictionary<string, Tensor> weights, string key, int added)
    {
        if (!weights.TryGetValue(key, out var old))
        {
            throw new InvalidDataException($"Cannot add tokens: the checkpoint has no '{key}'.");
        }

        using var scope = NewDisposeScope();
        var mean = old.to(ScalarType.Float32).mean([0], keepdim: true).to(old.dtype);
        var grown = cat([old, mean.expand(added, old.shape[1])], dim: 0);
        old.Dispose();
        return grown.MoveToOuterDisposeScope();
    }
}
