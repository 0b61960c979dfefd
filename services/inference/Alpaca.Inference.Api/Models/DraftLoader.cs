using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Model;
using Alpaca.Inference.Serving.Speculative;

namespace Alpaca.Inference.Api.Models;

/// <summary>
/// The draft model of a load (speculative decoding): opened on the CPU engine with the target's slots, KV
/// type and context (its keys and values cover every position the target may propose at; a whole context per
/// slot, so the draft never preempts), and refused with INVALID_ARGUMENT naming the difference when its
/// vocabulary is not the target's.
/// </summary>
internal static class DraftLoader
{
    /// <summary>Draft tokens per step for this load: the request's, else the service's; 1..16.</summary>
    public static int Tokens(LoadSpec spec, InferenceOptions options)
    {
        var tokens = spec.DraftTokens > 0 ? spec.DraftTokens : options.DraftTokens;
        if (tokens is < 1 or > SpeculationOptions.MaxTokens)
        {
            throw InferenceException.Invalid($"draft_tokens = {tokens} is out of range [1, {SpeculationOptions.MaxTokens}] (draft tokens per step; Alpaca:Inference:DraftTokens).", "draft_tokens");
        }

        return tokens;
    }

    /// <summary>The draft of <paramref name="target"/> (null when the load names none); the caller disposes it after the scheduler and before the target, whose threads it borrows.</summary>
    public static Engine? Load(string? draftPath, string name, Engine target, ModelOptions targetOptions, int draftThreads)
    {
        if (string.IsNullOrWhiteSpace(draftPath))
        {
            return null;
        }

        var path = Path.GetFullPath(draftPath);
        if (!File.Exists(path))
        {
            throw new InferenceException(InferenceErrorKind.NotFound, $"Draft model file not found: {path}", param: "draft_model");
        }

        Engine draft;
        try
        {
            // Threads of its own (1: the decode loop alone), or the target's: the two run one after the other on the decode loop.
            var workers = draftThreads == 0 ? (target.Model as Transformer)?.Workers : null;
            draft = Engine.Load(path, targetOptions with { ContextLength = target.Model.Cache.ContextLength, KvCacheTokens = 0, Threads = Math.Max(1, draftThreads), Workers = workers });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw InferenceException.Invalid($"Cannot load the draft model {path}: {ex.Message}", "draft_model");
        }

        try
        {
            DraftCompatibility.Check(target, draft);
            return draft;
        }
        catch (ArgumentException ex)
        {
            draft.Dispose();
            throw InferenceException.Invalid($"Cannot use {Path.GetFileName(path)} as the draft of model '{name}': {ex.Message}", "draft_model");
        }
    }
}
