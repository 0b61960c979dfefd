using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// Two trainer processes share one queue in one real Redis (and one output folder, as replicas share a volume).
/// The one holding the job's lease is killed with SIGKILL after a checkpoint; the other takes the job over once
/// the lease's short TTL has passed, resumes it from that checkpoint, and the job completes exactly once (two
/// claims in all, one SUCCEEDED) with the loss curve of an uninterrupted run.
/// </summary>
public sealed class ReplicaTakeoverTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new("trainer-replicas");

    [Fact]
    public async Task Killing_the_lease_holder_mid_job_lets_the_other_replica_finish_it_once_with_the_same_loss_curve()
    {
        var data = AlpacaSubset.Write(_dir, 8);
        const int total = 12;
        var spec = JobHelpers.Tiny(data, epochs: 3, batch: 2, checkpointEvery: 4);
        spec.Hyperparameters.MicroBatchSize = 1;
        var ttl = TimeSpan.FromSeconds(3);

        await using var a = await TrainerProcess.StartAsync(_dir.Path, redis.Address, ttl);
        await using var b = await TrainerProcess.StartAsync(_dir.Path, redis.Address, ttl);
        await a.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "takeover" });

        // Past a checkpoint, so the steps after it die with the holder and must be redone; any replica can read the record.
        var seen = await JobHelpers.WaitForAsync(b.Client, "takeover",
            j => JobHelpers.Ended(j) || (j.Progress.CheckpointStep >= 4 && j.Progress.Step > j.Progress.CheckpointStep), TimeSpan.FromMinutes(2));
        Assert.False(JobHelpers.Ended(seen), $"the job ended ({seen.State}: {seen.Error}) before it could be killed");
        var (holder, survivor) = a.Log.Contains("Job takeover running", StringComparison.Ordinal) ? (a, b) : (b, a);
        await holder.KillAsync();
        var killedAt = DateTime.UtcNow;
        output.WriteLine($"killed the holder at step {seen.Progress.Step} (checkpoint {seen.Progress.CheckpointStep})");

        var done = await JobHelpers.WaitForAsync(survivor.Client, "takeover", JobHelpers.Ended, TimeSpan.FromMinutes(2));
        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}\n{survivor.Log}");
        Assert.Equal(1, done.Resumes);
        Assert.Equal(total, done.Progress.Step);
        Assert.Contains("Job takeover running", survivor.Log);
        Assert.Single(survivor.Log.Split('\n'), l => l.Contains("Job takeover succeeded", StringComparison.Ordinal));
        Assert.DoesNotContain("Job takeover succeeded", holder.Log);

        // Exactly two claims of the job ever (the dead holder's and the survivor's): the fence counter says how many.
        using (var mux = await ConnectionMultiplexer.ConnectAsync(redis.Address))
        {
            Assert.Equal(2, (long)await mux.GetDatabase().StringGetAsync("alpaca:fence:{trainer/jobs/takeover}"));
        }

        // The survivor resumed from a checkpoint the dead holder wrote, and only after the lease expired.
        var (resumedFrom, curve) = ReadCurve(done.CheckpointDir);
        Assert.True(resumedFrom >= 4 && resumedFrom % 4 == 0 && resumedFrom <= seen.Progress.Step, $"resumed from {resumedFrom}");
        Assert.Equal(total, curve.Count);
        output.WriteLine($"took over and finished {(DateTime.UtcNow - killedAt).TotalSeconds:F1} s after the kill");

        // The same spec and seed, never interrupted, on the survivor: the same curve.
        await survivor.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "reference" });
        var reference = await JobHelpers.WaitForAsync(survivor.Client, "reference", JobHelpers.Ended, TimeSpan.FromMinutes(2));
        Assert.True(reference.State == JobState.Succeeded, $"{reference.State}: {reference.Error}");
        var (_, referenceCurve) = ReadCurve(reference.CheckpointDir);
        for (var i = 0; i < total; i++)
        {
            Assert.True(Math.Abs(curve[i] - referenceCurve[i]) <= 1e-6 * Math.Abs(referenceCurve[i]),
                $"step {i + 1}: taken over {curve[i]} vs uninterrupted {referenceCurve[i]}");
        }
    }

    private static (long ResumedFrom, List<double> Losses) ReadCurve(string outputDir)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "training_result.json")));
        var losses = json.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("loss").GetDouble()).ToList();
        return (json.RootElement.GetProperty("resumed_from_step").GetInt64(), losses);
    }

    public void Dispose() => _dir.Dispose();
}
