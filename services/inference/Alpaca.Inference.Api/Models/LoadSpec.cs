namespace Alpaca.Inference.Api.Models;

/// <summary>
/// A model to load: file, name, per-model engine overrides (0 = the service's configuration), and the chat
/// format choice (<see cref="Alpaca.Llm.Chat.ModelChat"/>; null = the model's own template, else Alpaca).
/// </summary>
public sealed record LoadSpec(string Path, string? Name = null, bool MakeDefault = false, int Threads = 0, int ContextLength = 0, string? ChatTemplate = null);
