using System.Text.Json;
using System.Text.Json.Serialization;
using Alpaca.State;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// How often a job's process died under it in a row (key <c>trainer/job-crashes/&lt;id&gt;</c>). An OOM kill,
/// a segfault in libtorch or a lost node never reaches a catch block: the only trace is a job still RUNNING
/// when the next process starts. Counting those starts lets the runner give up on a job that kills its
/// process every time instead of resuming it for ever while it holds the only job slot. A crash after the
/// job wrote a newer checkpoint starts the count again (it is making progress); a clean shutdown does not count.
/// </summary>
public sealed class JobCrashes(IStateStore store)
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>Records one more death of the process under <paramref name="job"/>; returns the count in a row (0: the last stop was clean).</summary>
    public async Task<int> CountAsync(Contracts.V1.Job job, CancellationToken cancellationToken)
    {
        var record = await ReadAsync(job.Id, cancellationToken).ConfigureAwait(false);
        var checkpoint = job.Progress?.CheckpointStep ?? 0;
        if (record.CleanStop)
        {
            record = record with { CleanStop = false };
        }
        else
        {
            var crashes = checkpoint > record.CheckpointStep ? 1 : record.Crashes + 1;
            record = new Record(crashes, checkpoint, false);
        }

        await WriteAsync(job.Id, record, cancellationToken).ConfigureAwait(false);
        return record.CleanStop ? 0 : record.Crashes;
    }

    /// <summary>The host stopped the job on purpose (shutdown, rolling update): the next start is not a crash.</summary>
    public async Task MarkCleanStopAsync(string jobId, CancellationToken cancellationToken)
    {
        var record = await ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
        await WriteAsync(jobId, record with { CleanStop = true }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The job ended: its count is no longer needed.</summary>
    public Task ForgetAsync(string jobId, CancellationToken cancellationToken) => store.DeleteAsync(Key(jobId), cancellationToken);

    private async Task<Record> ReadAsync(string jobId, CancellationToken cancellationToken)
    {
        var bytes = await store.GetAsync(Key(jobId), cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return new Record(0, 0, false);
        }

        try
        {
            return JsonSerializer.Deserialize<Record>(bytes, Json) ?? new Record(0, 0, false);
        }
        catch (JsonException)
        {
            return new Record(0, 0, false); // a torn count only costs the job a retry or two
        }
    }

    private Task WriteAsync(string jobId, Record record, CancellationToken cancellationToken) =>
        store.SetAsync(Key(jobId), JsonSerializer.SerializeToUtf8Bytes(record, Json), cancellationToken);

    private static string Key(string jobId) => StateKey.Join("trainer", "job-crashes", jobId);

    private sealed record Record(
        [property: JsonPropertyName("crashes")] int Crashes,
        [property: JsonPropertyName("checkpoint_step")] long CheckpointStep,
        [property: JsonPropertyName("clean_stop")] bool CleanStop);
}
