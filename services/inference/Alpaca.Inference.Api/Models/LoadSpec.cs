namespace Alpaca.Inference.Api.Models;

/// <summary>A model to load: file, name, and per-model engine overrides (0 = the service's configuration).</summary>
public sealed record LoadSpec(string Path, string? Name = null, bool MakeDefault = false, int Threads = 0, int ContextLength = 0);
