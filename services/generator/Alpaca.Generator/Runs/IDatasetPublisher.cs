namespace Alpaca.Generator.Runs;

/// <summary>The dataset-published event of a completed run (alpaca.v1.DatasetPublished).</summary>
public sealed record DatasetPublication(
    string DatasetId,
    string RunId,
    string DatasetPath,
    string RegenPath,
    long RecordCount,
    string Sha256,
    DateTimeOffset PublishedAt);

/// <summary>Announces completed datasets (pub/sub in the platform; nothing, or a console line, embedded).</summary>
public interface IDatasetPublisher
{
    /// <summary>Publishes the event; a retry after a crash sends the same <see cref="DatasetPublication.DatasetId"/>.</summary>
    Task PublishAsync(DatasetPublication publication, CancellationToken cancellationToken = default);
}

/// <summary>Publishes nowhere.</summary>
public sealed class NoDatasetPublisher : IDatasetPublisher
{
    public static readonly NoDatasetPublisher Instance = new();

    public Task PublishAsync(DatasetPublication publication, CancellationToken cancellationToken = default) => Task.CompletedTask;
}
