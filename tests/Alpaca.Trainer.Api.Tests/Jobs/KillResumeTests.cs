using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using Grpc.Core;
using Xunit.Abstractions;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// The service process is killed with SIGKILL in the middle of a job, after a checkpoint; restarted on the same
/// state folder, it resumes the job by itself, and the whole loss curve equals an uninterrupted run of the same seed.
/// </summary>
public sealed class KillResumeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("trainer-kill");

    [Fact]
    public async Task A_job_killed_mid_run_resumes_on_restart_and_its_loss_curve_equals_an_uninterrupted_run()
    {
        var data = AlpacaSubset.Write(_dir, 8);

        // 8 records in steps of 2 over 5 epochs: 20 steps, a checkpoint every 4, reshuffled each epoch.
        const int total = 20;
        var spec = JobHelpers.Tiny(data, epochs: 5, batch: 2, checkpointEvery: 4);
        spec.Hyperparameters.MicroBatchSize = 1;
        long killedAtStep;
        await using (var first = await TrainerProcess.StartAsync(_dir.Path))
        {
            await first.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "resumed" });
            killedAtStep = await RunUntilCheckpointAsync(first, "resumed", 4);
            await first.KillAsync();
        }

        output.WriteLine($"killed at step {killedAtStep}");
        Assert.InRange(killedAtStep, 5, total - 1);

        await using var second = await TrainerProcess.StartAsync(_dir.Path);
        var resumed = await JobHelpers.WaitForAsync(second.Client, "resumed", JobHelpers.Ended, TimeSpan.FromMinutes(2));
        Assert.True(resumed.State == JobState.Succeeded, $"{resumed.State}: {resumed.Error}\n{second.Log}");
        Assert.Equal(1, resumed.Resumes); // it was still RUNNING when the new process started
        Assert.Equal(total, resumed.Progress.Step);

        // The same spec and seed, never interrupted (its own output folder).
        await second.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "reference" });
        var reference = await JobHelpers.WaitForAsync(second.Client, "reference", JobHelpers.Ended, TimeSpan.FromMinutes(2));
        Assert.True(reference.State == JobState.Succeeded, $"{reference.State}: {reference.Error}");
        Assert.Equal(0, reference.Resumes);

        var (resumedFrom, resumedCurve) = ReadCurve(resumed.CheckpointDir);
        var (referenceFrom, referenceCurve) = ReadCurve(reference.CheckpointDir);
        output.WriteLine($"resumed from step {resumedFrom}");
        output.WriteLine("resumed:   " + string.Join(" ", resumedCurve.Select(l => l.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        output.WriteLine("reference: " + string.Join(" ", referenceCurve.Select(l => l.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(0, referenceFrom);
        // From a checkpoint the killed process wrote (the kill lands a few steps after the watcher saw one), not
        // from scratch and not from the end: the steps after it were lost with the process and trained again.
        Assert.True(resumedFrom >= 4 && resumedFrom < total && resumedFrom % 4 == 0, $"resumed from {resumedFrom}, killed around {killedAtStep}");
        Assert.Equal(total, resumedCurve.Count);
        Assert.Equal(total, referenceCurve.Count);
        for (var i = 0; i < total; i++)
        {
            // Same seed, same data order, restored AdamW moments and schedule: equal to fp32 rounding (bit-equal on CPU so far).
            Assert.True(Math.Abs(resumedCurve[i] - referenceCurve[i]) <= 1e-6 * Math.Abs(referenceCurve[i]),
                $"step {i + 1}: resumed {resumedCurve[i]} vs uninterrupted {referenceCurve[i]}");
        }
    }

    /// <summary>Watches until a checkpoint at or past <paramref name="checkpoint"/> is on disk; returns the step reached.</summary>
    private static async Task<long> RunUntilCheckpointAsync(TrainerProcess host, string jobId, long checkpoint)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var call = host.Client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cts.Token);
        await foreach (var response in call.ResponseStream.ReadAllAsync(cts.Token))
        {
            var job = response.Job;
            Assert.False(JobHelpers.Ended(job), $"the job ended ({job.State}: {job.Error}) before it could be killed\n{host.Log}");
            // Past the checkpoint, so the steps after it are lost with the process and must be redone.
            if (job.Progress.CheckpointStep >= checkpoint && job.Progress.Step > job.Progress.CheckpointStep)
            {
                return job.Progress.Step;
            }
        }

        throw new InvalidOperationException("The watch ended before a checkpoint.\n" + host.Log);
    }

    private static (long ResumedFrom, List<double> Losses) ReadCurve(string outputDir)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "training_result.json")));
        var losses = json.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("loss").GetDouble()).ToList();
        return (json.RootElement.GetProperty("resumed_from_step").GetInt64(), losses);
    }

    public void Dispose() => _dir.Dispose();
}
