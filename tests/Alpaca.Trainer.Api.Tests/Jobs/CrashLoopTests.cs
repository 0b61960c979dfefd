using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using Xunit.Abstractions;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// A job that kills its process every time (as an OOM kill does) is resumed twice, then marked FAILED with the
/// reason on the next start, and the queued job behind it gets the slot. The process is really killed with
/// SIGKILL, three times, before the job writes any checkpoint (so no progress resets the count).
/// </summary>
public sealed class CrashLoopTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("trainer-crashloop");

    [Fact]
    public async Task A_job_whose_process_dies_three_times_in_a_row_ends_failed_with_the_reason_and_frees_the_slot()
    {
        var data = AlpacaSubset.Write(_dir, 8);
        // 400 steps and no checkpoint before the end: every kill lands mid-job with nothing newer saved.
        var doomed = JobHelpers.Tiny(data, epochs: 100, batch: 2, checkpointEvery: 100_000);
        var next = JobHelpers.Tiny(data, epochs: 1, batch: 4);

        for (var life = 0; life < 3; life++)
        {
            await using var process = await TrainerProcess.StartAsync(_dir.Path);
            if (life == 0)
            {
                await process.Client.SubmitJobAsync(new SubmitJobRequest { Spec = doomed, JobId = "doomed" });
                await process.Client.SubmitJobAsync(new SubmitJobRequest { Spec = next, JobId = "next" });
            }

            // Running, and this start already counted (Resumes is written after the crash count).
            var expected = life;
            var running = await JobHelpers.WaitForAsync(process.Client, "doomed",
                j => JobHelpers.Ended(j) || (j.State == JobState.Running && j.Resumes == expected), TimeSpan.FromMinutes(2));
            Assert.True(running.State == JobState.Running, $"life {life}: {running.State}: {running.Error}\n{process.Log}");
            output.WriteLine($"life {life}: killed at step {running.Progress.Step}, resumes {running.Resumes}");
            await process.KillAsync();
        }

        await using var last = await TrainerProcess.StartAsync(_dir.Path);
        var failed = await JobHelpers.WaitForAsync(last.Client, "doomed", JobHelpers.Ended, TimeSpan.FromMinutes(1));
        Assert.True(failed.State == JobState.Failed, $"{failed.State}: {failed.Error}\n{last.Log}");
        Assert.Contains("died 3 times in a row", failed.Error);
        Assert.Equal(2, failed.Resumes); // resumed after the first two deaths, not after the third

        var after = await JobHelpers.WaitForAsync(last.Client, "next", JobHelpers.Ended, TimeSpan.FromMinutes(2));
        Assert.True(after.State == JobState.Succeeded, $"{after.State}: {after.Error}\n{last.Log}");
    }

    public void Dispose() => _dir.Dispose();
}
