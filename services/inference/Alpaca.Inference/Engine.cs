using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers;

namespace Alpaca.Inference;

/// <summary>
/// A loaded model ready to generate: the tokenizer and a forward-pass backend with its KV slots — the CPU
/// engine (<see cref="Transformer"/> over memory-mapped GGUF weights, <see cref="Load"/>) or another
/// <see cref="IEngineBackend"/> such as the TorchSharp one (<see cref="Create"/>). Generation runs through a
/// <see cref="Serving.ContinuousBatchScheduler"/> over it: the service's with many KV slots, <c>alpaca generate</c>'s with one.
/// </summary>
public sealed class Engine : IDisposable
{
    private readonly IDisposable? _owned;

    private Engine(LlamaWeights? weights, LlamaVocabulary vocabulary, ITextTokenizer tokenizer, IEngineBackend model, IDisposable? owned)
    {
        Weights = weights;
        Vocabulary = vocabulary;
        Tokenizer = tokenizer;
        Model = model;
        _owned = owned;
    }

    /// <summary>The GGUF weights when the model came from a GGUF file (null for a backend fed from safetensors).</summary>
    public LlamaWeights? Weights { get; }

    /// <summary>The file's vocabulary as stored (its chat template included), which the tokenizer was built from.</summary>
    public LlamaVocabulary Vocabulary { get; }

    public ITextTokenizer Tokenizer { get; }

    /// <summary>The forward pass the scheduler drives.</summary>
    public IEngineBackend Model { get; }

    /// <summary>Opens a GGUF model file (weights and tokenizer) on the CPU engine.</summary>
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
            CheckVocabulary(path, tokenizer, weights.Config.VocabSize);
            return new Engine(weights, vocabulary, tokenizer, new Transformer(weights, options), owned: weights);
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

    /// <summary>
    /// An engine over any backend, its tokenizer built from <paramref name="vocabulary"/> (kept for the chat
    /// template). Disposing it disposes <paramref name="model"/>, then <paramref name="owned"/> (what the
    /// backend was loaded from, e.g. mapped GGUF weights).
    /// </summary>
    public static Engine Create(IEngineBackend model, LlamaVocabulary vocabulary, LlamaWeights? weights = null, IDisposable? owned = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var tokenizer = TokenizerFactory.FromVocabulary(vocabulary);
        CheckVocabulary(weights?.Source ?? "model", tokenizer, model.VocabSize);
        return new Engine(weights, vocabulary, tokenizer, model, owned);
    }

    private static void CheckVocabulary(string source, ITextTokenizer tokenizer, int vocabSize)
    {
        if (tokenizer.VocabSize != vocabSize)
        {
            throw new InvalidDataException($"{source}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary is {vocabSize}.");
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        _owned?.Dispose();
    }
}
