using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Models;
using Alpaca.ServiceDefaults;

namespace Alpaca.Inference.Api;

/// <summary>The inference service as a composable host.</summary>
public static class InferenceModule
{
    public const string Name = "inference";

    public static readonly string[] GrpcServices = [InferenceService.Descriptor.FullName];

    public static readonly ServiceModule Instance = new(Name, GrpcServices, b => b.AddInferenceServices(), a => a.MapInferenceServices())
    {
        // On one machine the whole recipe should flow by itself: a fine-tune the trainer publishes is served
        // next (in a cluster this is a per-deployment choice, off by default).
        EmbeddedDefaults = _ => new Dictionary<string, string?> { ["Alpaca:Inference:AutoLoadPublished"] = "true", ["Alpaca:Inference:AutoDefaultPublished"] = "true" },
    };

    /// <summary>Settings that make the service load a GGUF file at start and serve it as its default model.</summary>
    public static IReadOnlyDictionary<string, string?> ServeAtStart(string ggufPath) =>
        new Dictionary<string, string?> { ["Alpaca:Inference:Model"] = Path.GetFullPath(ggufPath) };

    /// <summary>As <see cref="ServeAtStart(string)"/> on an engine backend ("cpu" or "torch"), its device and dtype (null = the defaults), with a draft model for speculative decoding.</summary>
    public static IReadOnlyDictionary<string, string?> ServeAtStart(string modelPath, string? backend, string? device, string? dtype, string? draft = null, int draftTokens = 0)
    {
        var settings = new Dictionary<string, string?> { ["Alpaca:Inference:Model"] = Path.GetFullPath(modelPath) };
        if (draft is not null)
        {
            settings["Alpaca:Inference:DraftModel"] = Path.GetFullPath(draft);
        }

        if (draftTokens > 0)
        {
            settings["Alpaca:Inference:DraftTokens"] = draftTokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (backend is not null)
        {
            settings["Alpaca:Inference:Backend"] = backend;
        }

        if (device is not null)
        {
            settings["Alpaca:Inference:Device"] = device;
        }

        if (dtype is not null)
        {
            settings["Alpaca:Inference:DType"] = dtype;
        }

        return settings;
    }

    /// <summary>
    /// Waits until a running inference host has a model ready (after <see cref="ServeAtStart"/>); throws with the
    /// load error when loading failed.
    /// </summary>
    public static async Task WaitForModelAsync(WebApplication inference, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var registry = inference.Services.GetRequiredService<ModelRegistry>();
        var deadline = DateTime.UtcNow + timeout;
        while (!registry.IsReady)
        {
            if (registry.List().FirstOrDefault(m => m.State == ModelState.Failed) is { } failed)
            {
                throw new InvalidOperationException($"Loading model {failed.Path} failed: {failed.Error}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No model was ready after {timeout.TotalSeconds:F0} s.");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
