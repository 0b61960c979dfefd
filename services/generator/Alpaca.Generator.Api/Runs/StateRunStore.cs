using System.Text.Json;
using System.Text.Json.Serialization;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Llm.IO.Exports;
using Alpaca.State;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// <see cref="IRunStore"/> over the platform's state store (Redis, or the local state folder), so runs
/// survive a restart of the service and can resume on another replica:
/// <list type="bullet">
/// <item><c>generator/runs/{id}/spec</c>: the <see cref="SelfInstructRunSpec"/> (seeds and prompt text included), written once;</item>
/// <item><c>generator/runs/{id}/checkpoint</c>: replaced as one value (counters and pending round change together); its presence means the run exists;</item>
/// <item><c>generator/runs/{id}/kept</c>: the append-only kept log, one record per list item;</item>
/// <item><c>generator/runs/{id}/export</c>: the manifest of the newest confirmed export (its generation folder and
/// the files' SHA-256; its fenced write is what lets a replica put the export's files in place, and what a holder
/// re-reads after its renames to put a newer export back).</item>
/// </list>
/// The state store appends one item at a time, so a crash can leave only part of a round's records in the
/// log; that round is still pending in the checkpoint and its replay appends the rest (ids already in the
/// log are skipped), so the log ends up exactly as if the round had been written at once.
/// </summary>
public sealed class StateRunStore(IStateStore state) : IRunStore
{
    private const string Root = "generator/runs/";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    internal static string Key(string runId, string part) => StateKey.Join("generator", "runs", runId, part);

    public async Task<StoredRun?> LoadAsync(string runId, CancellationToken cancellationToken = default)
    {
        var checkpoint = await ReadAsync<RunCheckpoint>(Key(runId, "checkpoint"), cancellationToken).ConfigureAwait(false);
        if (checkpoint is null)
        {
            return null;
        }

        var spec = await ReadAsync<SelfInstructRunSpec>(Key(runId, "spec"), cancellationToken).ConfigureAwait(false)
            ?? throw new GeneratorInputException($"Run '{runId}' has a checkpoint but no spec in the state store.");
        var kept = await LoadKeptAsync(runId, cancellationToken).ConfigureAwait(false);
        return new StoredRun(spec, checkpoint, kept);
    }

    /// <summary>The checkpoint alone (listing runs without reading their kept logs).</summary>
    public Task<RunCheckpoint?> LoadCheckpointAsync(string runId, CancellationToken cancellationToken = default) =>
        ReadAsync<RunCheckpoint>(Key(runId, "checkpoint"), cancellationToken);

    /// <summary>The spec alone (resuming needs it without the kept log, which the run loads itself).</summary>
    public Task<SelfInstructRunSpec?> LoadSpecAsync(string runId, CancellationToken cancellationToken = default) =>
        ReadAsync<SelfInstructRunSpec>(Key(runId, "spec"), cancellationToken);

    public async Task<IReadOnlyList<KeptRecord>> LoadKeptAsync(string runId, CancellationToken cancellationToken = default)
    {
        var items = await state.ReadListAsync(Key(runId, "kept"), cancellationToken: cancellationToken).ConfigureAwait(false);
        var kept = new List<KeptRecord>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            try
            {
                kept.Add(JsonSerializer.Deserialize<KeptRecord>(items[i], Json) ?? throw new JsonException("null record"));
            }
            catch (JsonException e)
            {
                throw new GeneratorInputException($"Run '{runId}': kept record {i} in the state store is unreadable ({e.Message}).");
            }
        }

        return kept;
    }

    public Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
        CreateAsync(spec, checkpoint, null, cancellationToken);

    /// <summary>Creates the run; with <paramref name="lease"/> (the run's lease) the spec and checkpoint writes are fenced.</summary>
    public async Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, StateLease? lease, CancellationToken cancellationToken = default)
    {
        // Spec first and the checkpoint last: until the checkpoint exists the run does not, and creating it
        // again starts from an empty log.
        await state.DeleteAsync(Key(spec.RunId, "kept"), cancellationToken).ConfigureAwait(false);
        await SetAsync(spec.RunId, Key(spec.RunId, "spec"), JsonSerializer.SerializeToUtf8Bytes(spec, Json), lease, cancellationToken).ConfigureAwait(false);
        await SaveCheckpointAsync(spec.RunId, checkpoint, lease, cancellationToken).ConfigureAwait(false);
    }

    public Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
        SaveCheckpointAsync(runId, checkpoint, null, cancellationToken);

    /// <summary>Replaces the checkpoint; with <paramref name="lease"/> fenced (refused: <see cref="RunLeaseLostException"/>).</summary>
    public Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, StateLease? lease, CancellationToken cancellationToken = default) =>
        SetAsync(runId, Key(runId, "checkpoint"), JsonSerializer.SerializeToUtf8Bytes(checkpoint, Json), lease, cancellationToken);

    public Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, CancellationToken cancellationToken = default) =>
        AppendKeptAsync(runId, records, null, cancellationToken);

    /// <summary>
    /// Appends kept records; with <paramref name="lease"/> each append is fenced, so a deposed holder adds nothing
    /// after the replica that took over has read the log (refused: <see cref="RunLeaseLostException"/>).
    /// </summary>
    public async Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, StateLease? lease, CancellationToken cancellationToken = default)
    {
        foreach (var record in records)
        {
            // Not cancellable half way: a round's records should land together whenever possible.
            var bytes = JsonSerializer.SerializeToUtf8Bytes(record, Json);
            if (lease is null)
            {
                await state.AppendAsync(Key(runId, "kept"), bytes, CancellationToken.None).ConfigureAwait(false);
            }
            else if (await state.AppendIfFencedAsync(Key(runId, "kept"), bytes, lease, CancellationToken.None).ConfigureAwait(false) is null)
            {
                throw new RunLeaseLostException(runId, lease);
            }
        }
    }

    public Task ConfirmExportAsync(string runId, ExportManifest export, CancellationToken cancellationToken = default) =>
        ConfirmExportAsync(runId, export, null, cancellationToken);

    /// <summary>
    /// Records the export about to be put in place (<c>generator/runs/{id}/export</c>: its <see cref="ExportManifest"/>,
    /// the generation folder and every file's SHA-256); with <paramref name="lease"/> the write is fenced, and refused
    /// with <see cref="RunLeaseLostException"/> once another replica holds a newer lease: the caller then deletes its
    /// staged files instead of renaming them.
    /// </summary>
    public Task ConfirmExportAsync(string runId, ExportManifest export, StateLease? lease, CancellationToken cancellationToken = default) =>
        SetAsync(runId, Key(runId, "export"), (export with { Owner = lease?.Owner ?? export.Owner, ConfirmedAt = DateTimeOffset.UtcNow }).ToJson(), lease, cancellationToken);

    /// <summary>The run's newest confirmed export (null: none, or a record from before exports carried manifests).</summary>
    public async Task<ExportManifest?> LoadExportAsync(string runId, CancellationToken cancellationToken = default) =>
        await state.GetAsync(Key(runId, "export"), cancellationToken).ConfigureAwait(false) is { } bytes ? ExportManifest.FromJson(bytes) : null;

    /// <summary>The key of a run's lease (apart from its values, see <see cref="IStateStore.TryAcquireLeaseAsync"/>).</summary>
    public static string LeaseKey(string runId) => StateKey.Join("generator", "runs", runId);

    public async Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken cancellationToken = default)
    {
        var keys = await state.ListKeysAsync(Root, cancellationToken).ConfigureAwait(false);
        return keys.Where(k => k.EndsWith("/checkpoint", StringComparison.Ordinal))
            .Select(k => k[Root.Length..^"/checkpoint".Length])
            .Where(id => !id.Contains('/', StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private async Task SetAsync(string runId, string key, byte[] value, StateLease? lease, CancellationToken cancellationToken)
    {
        if (lease is null)
        {
            await state.SetAsync(key, value, cancellationToken).ConfigureAwait(false);
        }
        else if (!await state.SetIfFencedAsync(key, value, lease, cancellationToken).ConfigureAwait(false))
        {
            throw new RunLeaseLostException(runId, lease);
        }
    }

    private async Task<T?> ReadAsync<T>(string key, CancellationToken cancellationToken)
        where T : class
    {
        var bytes = await state.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(bytes, Json);
        }
        catch (JsonException e)
        {
            throw new GeneratorInputException($"State '{key}' is unreadable ({e.Message}).");
        }
    }
}
