using System.Text.RegularExpressions;
using Alpaca.Contracts.V1;
using Alpaca.State;
using Google.Protobuf;

namespace Alpaca.Trainer.Api.Datasets;

/// <summary>
/// The data sets the generator published (dataset-published events), kept durably so a job can name one by
/// id long after the event went by: key <c>trainer/datasets/&lt;id&gt;</c> holds the event as protobuf JSON.
/// </summary>
public sealed partial class DatasetCatalog(IStateStore store)
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>True for ids that can be a state key segment (the generator's ids are).</summary>
    public static bool IsValidId(string id) => id.Length is > 0 and <= 200 && IdPattern().IsMatch(id) && id is not "." and not "..";

    public Task RecordAsync(DatasetPublished dataset, CancellationToken cancellationToken) =>
        store.SetAsync(Key(dataset.DatasetId), System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(dataset)), cancellationToken);

    public async Task<DatasetPublished?> FindAsync(string datasetId, CancellationToken cancellationToken)
    {
        if (!IsValidId(datasetId))
        {
            return null;
        }

        var bytes = await store.GetAsync(Key(datasetId), cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : Parser.Parse<DatasetPublished>(System.Text.Encoding.UTF8.GetString(bytes));
    }

    private static string Key(string datasetId) => StateKey.Join("trainer", "datasets", datasetId);

    [GeneratedRegex(@"^[A-Za-z0-9._:\-]+$")]
    private static partial Regex IdPattern();
}
