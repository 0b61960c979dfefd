using System.Text.Json;
using System.Text.Json.Serialization;
using Alpaca.Contracts.V1;
using Alpaca.State;

namespace Alpaca.Inference.Api.Models;

/// <summary>
/// What the fleet should serve, in the state store every replica shares: the latest published model per
/// name (<c>inference/desired/models/&lt;name&gt;</c>) and which of them is the default
/// (<c>inference/desired/default</c>). Why a record and not just the event: replicas share one consumer
/// group, so a <see cref="ModelPublished"/> event reaches exactly one of them; the replica that gets it
/// writes the record, and every replica (including ones started later, or down when it was published)
/// converges on it through <see cref="ModelReconciler"/>.
/// </summary>
public sealed class DesiredModels(IStateStore store)
{
    private const string ModelsPrefix = "inference/desired/models/";
    private const string DefaultKey = "inference/desired/default";
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>Records a published model as desired (and as the default) unless a newer publication of that name is already recorded.</summary>
    public async Task<DesiredModel> PublishAsync(ModelPublished published, CancellationToken cancellationToken)
    {
        var at = published.PublishedAt?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow;
        var name = string.IsNullOrEmpty(published.ModelName) ? Path.GetFileNameWithoutExtension(published.GgufPath) : published.ModelName;
        var desired = new DesiredModel(name, published.GgufPath, published.JobId, at) { GgufSha256 = string.IsNullOrEmpty(published.GgufSha256) ? null : published.GgufSha256 };
        var key = Key(name);
        if (await ReadAsync(key, cancellationToken).ConfigureAwait(false) is { } existing && existing.PublishedAt > desired.PublishedAt)
        {
            return existing; // a redelivered or late older event never rolls the fleet back
        }

        await store.SetAsync(key, JsonSerializer.SerializeToUtf8Bytes(desired, Json), cancellationToken).ConfigureAwait(false);
        var current = await ReadAsync(DefaultKey, cancellationToken).ConfigureAwait(false);
        if (current is null || current.PublishedAt <= desired.PublishedAt)
        {
            await store.SetAsync(DefaultKey, JsonSerializer.SerializeToUtf8Bytes(desired, Json), cancellationToken).ConfigureAwait(false);
        }

        return desired;
    }

    /// <summary>Every desired model and the name of the desired default (null when none was published).</summary>
    public async Task<(IReadOnlyList<DesiredModel> Models, string? Default)> ReadAllAsync(CancellationToken cancellationToken)
    {
        var models = new List<DesiredModel>();
        foreach (var key in await store.ListKeysAsync(ModelsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (await ReadAsync(key, cancellationToken).ConfigureAwait(false) is { } model)
            {
                models.Add(model);
            }
        }

        return (models, (await ReadAsync(DefaultKey, cancellationToken).ConfigureAwait(false))?.Name);
    }

    private async Task<DesiredModel?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var bytes = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DesiredModel>(bytes, Json);
        }
        catch (JsonException)
        {
            return null; // an unreadable record is as good as none; the next publication rewrites it
        }
    }

    // Model names are free text; the key holds them hex-encoded so any name maps to one valid key, injectively.
    private static string Key(string name) => StateKey.Validate(ModelsPrefix + Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(name)));
}

/// <summary>One published model the fleet should serve; <see cref="Version"/> tells two publications of a name apart.</summary>
public sealed record DesiredModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("gguf_path")] string GgufPath,
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("published_at")] DateTimeOffset PublishedAt)
{
    /// <summary>The GGUF's SHA-256 as the trainer's fenced export confirmed it (null: an older publication); checked before every load.</summary>
    [JsonPropertyName("gguf_sha256")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? GgufSha256 { get; init; }

    [JsonIgnore]
    public string Version => $"{GgufPath}|{JobId}|{PublishedAt.UtcTicks}";
}
