namespace Alpaca.Inference.Api.Models;

/// <summary>
/// A model to load: file, name, per-model engine overrides (0 or empty = the service's configuration):
/// backend "cpu" or "torch" and the torch backend's device and dtype, and the chat format choice
/// (<see cref="Alpaca.Llm.Chat.ModelChat"/>; null = the model's own template, else Alpaca), and a draft model
/// for speculative decoding with its tokens per step (0 = the service's setting).
/// </summary>
public sealed record LoadSpec(string Path, string? Name = null, bool MakeDefault = false, int Threads = 0, int ContextLength = 0, string? Backend = null, string? Device = null, string? DType = null, string? ChatTemplate = null, string? KvCacheType = null, string? DraftModel = null, int DraftTokens = 0);
