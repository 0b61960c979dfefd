using Alpaca.Inference.Generation;
using Alpaca.Inference.Model;
using Alpaca.Llm.Gguf;
using Alpaca.Tokenizers;

namespace Alpaca.Inference;

/// <summary>
/// A loaded model ready to generate: GGUF weights (memory-mapped), the tokenizer from the same file,
/// the forward pass with its KV cache and worker threads. The inference service wraps this; continuous
/// batching drives <see cref="Model"/> directly with several KV cache slots.
/// </summary>
public sealed class Engine : IDisposable
{
    private readonly object _generateLock = new();

    private Engine(LlamaWeights weights, ITextTokenizer tokenizer, Transformer model)
    {
        Weights = weights;
        Tokenizer = tokenizer;
        Model = model;
        Generator = new Generator(model, tokenizer);
    }

    public LlamaWeights Weights { get; }

    public ITextTokenizer Tokenizer { get; }

    public Transformer Model { get; }

    public Generator Generator { get; }

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
            var tokenizer = TokenizerFactory.FromGguf(file);
            weights = LlamaWeights.FromGguf(file, ownsFile: true);
            if (tokenizer.VocabSize != weights.Config.VocabSize)
            {
                throw new InvalidDataException($"{path}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary is {weights.Config.VocabSize}.");
            }

            return new Engine(weights, tokenizer, new Transformer(weights, options));
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

    /// <summary>One completion; calls are serialized (the model runs one forward pass at a time).</summary>
    public GenerationResult Generate(GenerationRequest request, Action<GenerationDelta>? onDelta = null, CancellationToken cancellationToken = default)
    {
        lock (_generateLock)
        {
            return Generator.Generate(request, onDelta, cancellationToken);
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Weights.Dispose();
    }
}
