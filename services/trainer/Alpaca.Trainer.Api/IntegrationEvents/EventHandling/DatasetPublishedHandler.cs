using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.Trainer.Api.Datasets;

namespace Alpaca.Trainer.Api.IntegrationEvents.EventHandling;

/// <summary>
/// Records every data set the generator publishes so jobs can name it by id. Recording is an idempotent
/// overwrite, so a redelivered event is harmless; an event without a usable id can never succeed and is dropped.
/// </summary>
public sealed class DatasetPublishedHandler(DatasetCatalog catalog, ILogger<DatasetPublishedHandler> logger) : IEventHandler<DatasetPublished>
{
    public async Task HandleAsync(DatasetPublished @event, EventContext context, CancellationToken cancellationToken)
    {
        if (!DatasetCatalog.IsValidId(@event.DatasetId))
        {
            throw new PoisonEventException($"Dataset id '{@event.DatasetId}' is empty or not a valid id ([A-Za-z0-9._:-]).");
        }

        if (string.IsNullOrEmpty(@event.DatasetPath))
        {
            throw new PoisonEventException($"Dataset '{@event.DatasetId}' was published without a dataset_path.");
        }

        await catalog.RecordAsync(@event, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Recorded dataset {DatasetId} ({Records} records) at {Path}", @event.DatasetId, @event.RecordCount, @event.DatasetPath);
    }
}
