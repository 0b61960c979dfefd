using System.Text;
using Alpaca.Contracts.V1;
using Alpaca.State;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Jobs;
using Alpaca.Trainer.Api.Tests.Support;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// One job record with bad JSON in the state store: it is moved aside and reported (GetJob answers DATA_LOSS
/// naming where it went), and every other call keeps working, the good jobs included.
/// </summary>
public sealed class QuarantineTests : IDisposable
{
    private readonly TempDir _dir = new("trainer-quarantine");

    [Fact]
    public async Task An_unreadable_job_record_is_quarantined_and_reported_and_the_service_keeps_serving()
    {
        var data = AlpacaSubset.Write(_dir, 4);
        await using (var first = await TrainerHost.StartAsync(_dir.Path))
        {
            await first.Client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 1), JobId = "good" });
            var good = await JobHelpers.WaitForAsync(first.Client, "good", JobHelpers.Ended, TimeSpan.FromMinutes(2));
            Assert.Equal(JobState.Succeeded, good.State);
        }

        var broken = Encoding.UTF8.GetBytes("{\"id\": \"broken\", \"state\": ");
        using (var store = new LocalFolderStateStore(Path.Combine(_dir.Path, "state")))
        {
            await store.SetAsync("trainer/jobs/broken", broken);
        }

        await using var host = await TrainerHost.StartAsync(_dir.Path);
        var list = await host.Client.ListJobsAsync(new ListJobsRequest());
        Assert.Equal(["good"], list.Jobs.Select(j => j.Id));
        Assert.Equal(JobState.Succeeded, (await host.Client.GetJobAsync(new GetJobRequest { JobId = "good" })).Job.State);

        var e = await Assert.ThrowsAsync<RpcException>(async () => await host.Client.GetJobAsync(new GetJobRequest { JobId = "broken" }));
        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Contains("trainer/quarantine/jobs/broken", e.Status.Detail);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await host.Client.GetJobAsync(new GetJobRequest { JobId = "never" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var state = host.Services.GetRequiredService<IStateStore>();
        Assert.Null(await state.GetAsync("trainer/jobs/broken"));
        Assert.Equal(broken, await state.GetAsync("trainer/quarantine/jobs/broken"));
        var reported = Assert.Single(await host.Services.GetRequiredService<JobRepository>().QuarantinedAsync());
        Assert.Equal("broken", reported.JobId);

        // New work still goes through.
        await host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 1), JobId = "after" });
        var after = await JobHelpers.WaitForAsync(host.Client, "after", JobHelpers.Ended, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Succeeded, after.State);
    }

    public void Dispose() => _dir.Dispose();
}
