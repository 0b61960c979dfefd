using Alpaca.Inference.Model;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers;

namespace Alpaca.Inference;

/// <summary>
/// A loaded model ready to generate: GGUF weights (memory-mapped), the tokenizer from the same file,
/// the forward pass with its KV cache and worker threads. Generation runs through a
/// <see cref="Serving.ContinuousBatchScheduler"/> over it: the service's with many KV slots, <c>alpaca generate</c>'s with one.
/// </summary>
public sealed class Engine : IDisposable
{
    private Engine(LlamaWeights weights, LlamaVocabulary vocabulary, ITextTokenizer tokenizer, Transformer model)
    {
        Weights = weights;
        Vocabulary = vocabulary;
        Tokenizer = tokenizer;
        Model = model;
    }

    public LlamaWeights Weights { get; }

    /// <summary>The file's vocabulary as stored (its chat template included), which the tokenizer was built from.</summary>
    public LlamaVocabulary Vocabulary { get; }

    public ITextTokenizer Tokenizer { get; }

    public Transformer Model { get; }

    /// <summary>Opens a GGUF model file (weights and tokenizer).</summary>
    public static Engine Load(string path, ModelOptions? options = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model file not found: {path}", path);
        }

        var file = GgufFile.Open(path);
        LlamaWeights? weights = null;
        try
        {
            var vocabulary = LlamaVocabulary.RequireFromGguf(file.Metadata, file.Path);
            var tokenizer = TokenizerFactory.FromVocabulary(vocabulary);
            weights = LlamaWeights.FromGguf(file, ownsFile: true);
            if (tokenizer.VocabSize != weights.Config.VocabSize)
            {
                throw new InvalidDataException($"{path}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary is {weights.Config.VocabSize}.");
            }

            return new Engine(weights, vocabulary, tokenizer, new Transformer(weights, options));
        }
        catch
        {
            if (weights is not null)
            {
                weights.Dispose();
            }
            else
            {
                file.Dispose();
            }

            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Weights.Dispose();
    }
}
