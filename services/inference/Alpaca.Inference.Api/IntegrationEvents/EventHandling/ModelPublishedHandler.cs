using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.Messaging;

namespace Alpaca.Inference.Api.IntegrationEvents.EventHandling;

/// <summary>
/// A fine-tune was published: with <c>Alpaca:Inference:AutoLoadPublished</c> it is recorded as desired
/// (<see cref="DesiredModels"/>, so every replica, not just the one this event reached, converges on it
/// through its <see cref="ModelReconciler"/>), then loaded here at once (hot-swapped when the name is
/// already served), and made the default model only with <c>Alpaca:Inference:AutoDefaultPublished</c>. An event without a GGUF file, or one whose file cannot be loaded
/// (or does not fit the memory budget), is dropped (dead-lettered) rather than retried forever.
/// </summary>
public sealed class ModelPublishedHandler(
    InferenceOptions options,
    DesiredModels desired,
    ModelReconciler reconciler,
    ILogger<ModelPublishedHandler> logger) : IEventHandler<ModelPublished>
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
            var model = await desired.PublishAsync(@event, cancellationToken);
            await reconciler.ApplyAsync(model, makeDefault: options.AutoDefaultPublished, cancellationToken);
        }
        catch (InferenceException ex) when (ex.Kind is InferenceErrorKind.InvalidArgument or InferenceErrorKind.NotFound or InferenceErrorKind.FailedPrecondition)
        {
            throw new PoisonEventException($"Cannot load published model '{@event.ModelName}': {ex.Message}", ex);
        }
    }
}
