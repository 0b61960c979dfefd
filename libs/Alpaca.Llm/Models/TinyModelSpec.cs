using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Models;

/// <summary>What the tiny-model factory should write: a shape, a seed, and optionally a vocabulary.</summary>
public sealed record TinyModelSpec
{
    public required LlamaConfig Config { get; init; }

    /// <summary>Seed mixed with each tensor's name, so every tensor is reproducible on its own.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Standard deviation of the N(0, σ²) weights (the norms are 1.0).</summary>
    public float InitStd { get; init; } = 0.02f;

    /// <summary>Norm gains drawn from N(1, σ²) instead of exactly 1.0, so tests notice a gain that is ignored.</summary>
    public bool RandomNorms { get; init; }

    /// <summary>The vocabulary to embed; null gives a byte-fallback SentencePiece vocabulary of <c>Config.VocabSize</c> tokens.</summary>
    public LlamaVocabulary? Vocabulary { get; init; }

    public string Name { get; init; } = "tiny-llama";
}
