using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.Messaging;

namespace Alpaca.Inference.Api.IntegrationEvents.EventHandling;

/// <summary>
/// A fine-tune was published: with <c>Alpaca:Inference:AutoLoadPublished</c> it is loaded (hot-swapped
/// when the name is already served) and becomes the default model. An event without a GGUF file, or
/// one whose file cannot be loaded, is dropped (dead-lettered) rather than retried forever.
/// </summary>
public sealed class ModelPublishedHandler(InferenceOptions options, ModelRegistry registry, ILogger<ModelPublishedHandler> logger) : IEventHandler<ModelPublished>
{
    public async Task HandleAsync(ModelPublished @event, EventContext context, CancellationToken cancellationToken)
    {
        if (!options.AutoLoadPublished)
        {
            logger.LogInformation("Model {Model} published ({Path}); not loading it (Alpaca:Inference:AutoLoadPublished is off)", @event.ModelName, @event.GgufPath);
            return;
        }

        if (string.IsNullOrEmpty(@event.GgufPath))
        {
            throw new PoisonEventException($"ModelPublished for '{@event.ModelName}' has no gguf_path; the inference service serves GGUF files.");
        }

        try
        {
            await registry.LoadAsync(new LoadSpec(@event.GgufPath, string.IsNullOrEmpty(@event.ModelName) ? null : @event.ModelName, MakeDefault: true), cancellationToken);
        }
        catch (InferenceException ex) when (ex.Kind is InferenceErrorKind.InvalidArgument or InferenceErrorKind.NotFound)
        {
            throw new PoisonEventException($"Cannot load published model '{@event.ModelName}': {ex.Message}", ex);
        }
    }
}
