using Alpaca.Contracts.V1;
using Alpaca.Generator.Runs;
using Alpaca.Messaging;
using Google.Protobuf.WellKnownTypes;

namespace Alpaca.Generator.Api.IntegrationEvents;

/// <summary>Announces a completed run's dataset on <c>alpaca.dataset-published.v1</c>; the dataset id is the event id, so a re-publication after a crash is recognised by consumers.</summary>
public sealed class DatasetPublishedPublisher(IEventBus bus) : IDatasetPublisher
{
    public Task PublishAsync(DatasetPublication publication, CancellationToken cancellationToken = default) =>
        bus.PublishAsync(
            new DatasetPublished
            {
                DatasetId = publication.DatasetId,
                RunId = publication.RunId,
                DatasetPath = publication.DatasetPath,
                RegenPath = publication.RegenPath,
                RecordCount = publication.RecordCount,
                Sha256 = publication.Sha256,
                PublishedAt = Timestamp.FromDateTimeOffset(publication.PublishedAt),
            },
            publication.DatasetId,
            cancellationToken);
}
