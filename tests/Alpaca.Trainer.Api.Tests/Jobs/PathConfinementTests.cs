using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using Grpc.Core;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// A job reads data and base models only from the data roots and writes only under the work root: outside is
/// PERMISSION_DENIED (the same answer whether or not the file exists), malformed is INVALID_ARGUMENT.
/// </summary>
public sealed class PathConfinementTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("trainer-confined");
    private readonly TempDir _outside = new("trainer-outside");
    private TrainerHost _host = null!;

    public async Task InitializeAsync() => _host = await TrainerHost.StartAsync(_dir.Path);

    private async Task<RpcException> RefusedAsync(JobSpec spec) =>
        await Assert.ThrowsAsync<RpcException>(async () => await _host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec }));

    [Fact]
    public async Task A_dataset_outside_the_data_roots_is_denied_whether_or_not_it_exists()
    {
        var real = AlpacaSubset.Write(_outside, 2);
        var existing = await RefusedAsync(JobHelpers.Tiny(real));
        var missing = await RefusedAsync(JobHelpers.Tiny(_outside.File("absent.json")));
        Assert.Equal(StatusCode.PermissionDenied, existing.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, missing.StatusCode);
        Assert.Equal(existing.Status.Detail, missing.Status.Detail);
        Assert.DoesNotContain(_outside.Path, existing.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("spec.dataset_path", existing.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(JobHelpers.Tiny("/etc/passwd"))).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await RefusedAsync(JobHelpers.Tiny(Path.Combine(_dir.Path, "..", Path.GetFileName(_outside.Path), "data.json")))).StatusCode);
        Assert.Empty((await _host.Client.ListJobsAsync(new ListJobsRequest())).Jobs);
    }

    [Fact]
    public async Task Symlinks_in_the_data_root_that_lead_outside_are_denied()
    {
        var real = AlpacaSubset.Write(_outside, 2);
        File.CreateSymbolicLink(_dir.File("linked.json"), real);
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(JobHelpers.Tiny(_dir.File("linked.json")))).StatusCode);

        Directory.CreateSymbolicLink(_dir.File("elsewhere"), _outside.Path);
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(JobHelpers.Tiny(Path.Combine(_dir.File("elsewhere"), "data.json")))).StatusCode);

        var spec = JobHelpers.Tiny(AlpacaSubset.Write(_dir, 2));
        spec.BaseModelPath = _dir.File("elsewhere"); // a base-model folder that is a link out of the root
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(spec)).StatusCode);
        spec.BaseModelPath = _outside.Path;
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(spec)).StatusCode);
    }

    [Fact]
    public async Task Output_goes_only_under_the_work_root()
    {
        var spec = JobHelpers.Tiny(AlpacaSubset.Write(_dir, 2));
        spec.OutputDir = _outside.File("out");
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(spec)).StatusCode);
        spec.OutputDir = "/tmp";
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(spec)).StatusCode);
        spec.OutputDir = "../out";
        Assert.Equal(StatusCode.InvalidArgument, (await RefusedAsync(spec)).StatusCode);
        spec.OutputDir = _dir.File("jobs"); // the work root itself holds every job
        Assert.Equal(StatusCode.InvalidArgument, (await RefusedAsync(spec)).StatusCode);

        // A name under the work root is taken there, resolved.
        spec.OutputDir = "mine";
        var job = (await _host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "mine" })).Job;
        Assert.Equal(Path.Combine(_dir.Path, "jobs", "mine"), job.Spec.OutputDir);
        await _host.Client.CancelJobAsync(new CancelJobRequest { JobId = "mine" });
        await JobHelpers.WaitForAsync(_host.Client, "mine", JobHelpers.Ended, TimeSpan.FromMinutes(2));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
        _outside.Dispose();
    }
}
