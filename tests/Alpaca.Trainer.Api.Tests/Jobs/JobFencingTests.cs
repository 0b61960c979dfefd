using Alpaca.Contracts.V1;
using Alpaca.Llm.IO.Exports;
using Alpaca.State;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Jobs;
using Alpaca.Trainer.Training;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using GgufExportType = Alpaca.Trainer.Training.GgufExportType;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// Two replicas' job repositories on one store (a real local folder, a real redis-server): a deposed holder's
/// progress write is refused with <see cref="JobLeaseLostException"/> and the new holder's record stays; a
/// caller's cancel on a replica that does not run the job reaches the holder as a cancel request; a deposed holder's
/// export (trained for real on the tiny base) is refused before it is moved into the output folder, and one frozen
/// between its confirmation and its renames ends with the new holder's files in place.
/// </summary>
public sealed class JobFencingTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new("trainer-fencing");
    private readonly List<IDisposable> _disposables = [];

    public static TheoryData<string> Stores => ["local", "redis"];

    private IStateStore Create(string kind)
    {
        if (kind == "local")
        {
            var local = new LocalFolderStateStore(_dir.Path);
            _disposables.Add(local);
            return local;
        }

        var mux = ConnectionMultiplexer.Connect(redis.Address);
        _disposables.Add(mux);
        return new RedisStateStore(mux, $"t{Guid.NewGuid():N}:");
    }

    private static JobRepository Repository(IStateStore store) => new(store, new JobUpdates(), NullLogger<JobRepository>.Instance);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_deposed_holders_progress_write_is_refused_and_the_new_holders_record_stays(string kind)
    {
        var store = Create(kind);
        var (replicaA, replicaB) = (Repository(store), Repository(store));
        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        await replicaA.AddIfAbsentAsync(new Job { Id = "j1", State = JobState.Queued, Progress = new JobProgress(), CreatedAt = now, UpdatedAt = now });

        var a = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey("j1"), "pod-a/1", TimeSpan.FromMinutes(1));
        Assert.NotNull(a);
        await replicaA.UpdateAsync("j1", j => { j.State = JobState.Running; j.Progress.Step = 4; return true; }, lease: a);

        // pod-a's lease ends while it is frozen (here: freed in the store, as an expiry would) and pod-b takes over.
        var frozen = a.Lease;
        Assert.True(await store.ReleaseLeaseAsync(frozen));
        await using var b = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey("j1"), "pod-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(b);
        await replicaB.UpdateAsync("j1", j => { j.Progress.Step = 6; j.Resumes++; return true; }, lease: b);

        // pod-a thaws and writes its step 5: refused, pod-b's record stays.
        await Assert.ThrowsAsync<JobLeaseLostException>(() =>
            replicaA.UpdateAsync("j1", j => { j.Progress.Step = 5; return true; }, lease: a));
        Assert.True(a.Lost.IsCancellationRequested);
        var record = await replicaB.GetAsync("j1");
        Assert.Equal(6, record!.Progress.Step);
        Assert.Equal(1, record.Resumes);
        Assert.True(b.Lease.FencingToken > frozen.FencingToken);
        await a.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_deposed_holders_export_is_refused_and_the_new_holders_files_stay(string kind)
    {
        var store = Create(kind);
        var (replicaA, replicaB) = (Repository(store), Repository(store));
        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        await replicaA.AddIfAbsentAsync(new Job { Id = "j-export", State = JobState.Running, Progress = new JobProgress(), CreatedAt = now, UpdatedAt = now });
        var a = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey("j-export"), "pod-a/1", TimeSpan.FromMinutes(1));
        Assert.NotNull(a);

        // pod-a is frozen past its lease (freed here as an expiry would); pod-b takes the job over and exports its model.
        Assert.True(await store.ReleaseLeaseAsync(a.Lease));
        await using var b = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey("j-export"), "pod-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(b);
        var output = _dir.File("out-" + kind);
        var exportedByB = TrainingJob.Run(TinySpec(output, GgufExportType.F32) with
        {
            ExportFence = new JobExportFence(replicaB, "j-export", b),
        });
        var filesOfB = Snapshot(output);
        Assert.Contains("model-f32.gguf", filesOfB.Keys);
        Assert.Equal(Path.Combine(output, "model-f32.gguf"), exportedByB.GgufPath);

        // pod-a thaws and finishes its own export (another GGUF type, so that any file of it would show): refused, nothing lands.
        Assert.Throws<JobLeaseLostException>(() => TrainingJob.Run(TinySpec(output, GgufExportType.F16) with
        {
            ExportFence = new JobExportFence(replicaA, "j-export", a),
        }));
        Assert.True(a.Lost.IsCancellationRequested);
        Assert.Equal(filesOfB, Snapshot(output));
        await a.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_holder_frozen_between_its_export_confirmation_and_its_renames_leaves_the_new_holders_files(string kind)
    {
        var store = Create(kind);
        var (replicaA, replicaB) = (Repository(store), Repository(store));
        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        await replicaA.AddIfAbsentAsync(new Job { Id = "j-frozen", State = JobState.Running, Progress = new JobProgress(), CreatedAt = now, UpdatedAt = now });
        var a = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey("j-frozen"), "pod-a/1", TimeSpan.FromMinutes(1));
        Assert.NotNull(a);
        var output = _dir.File("frozen-" + kind);

        // pod-a trains and exports F16; its fenced confirmation succeeds (it holds the lease) and it freezes right
        // after it, before any rename (a GC pause or SIGSTOP there).
        var frozenA = new FreezeAfterConfirmation(new JobExportFence(replicaA, "j-frozen", a));
        var runA = Task.Run(() => TrainingJob.Run(TinySpec(output, GgufExportType.F16) with { ExportFence = frozenA }));
        await frozenA.Confirmed.WaitAsync(TimeSpan.FromMinutes(3));

        // pod-a's lease ends while it is frozen (freed here as an expiry would); pod-b takes the job over and exports F32.
        Assert.True(await store.ReleaseLeaseAsync(a.Lease));
        await using var b = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey("j-frozen"), "pod-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(b);
        var exportedByB = TrainingJob.Run(TinySpec(output, GgufExportType.F32) with { ExportFence = new JobExportFence(replicaB, "j-frozen", b) });
        var filesOfB = Snapshot(output);
        Assert.Contains("model-f32.gguf", filesOfB.Keys);

        // pod-a thaws and carries on with its renames: the final files must still be pod-b's, byte for byte, and no model-f16.gguf.
        frozenA.Thaw();
        var errorOfA = await Record.ExceptionAsync(() => runA);
        Assert.Equal(filesOfB, Snapshot(output));
        Assert.IsType<ExportSupersededException>(errorOfA);

        // The confirmed manifest is pod-b's, the only generation kept, and its GGUF digest is the one ModelPublished announces.
        var confirmed = await replicaB.LoadExportAsync("j-frozen");
        Assert.NotNull(confirmed);
        Assert.Equal(b.Lease.FencingToken, confirmed.FencingToken);
        Assert.Equal("pod-b/2", confirmed.Owner);
        Assert.Equal(filesOfB["model-f32.gguf"], confirmed.Find("model-f32.gguf")!.Sha256);
        Assert.Equal(filesOfB["model-f32.gguf"], exportedByB.GgufSha256);
        Assert.Equal([confirmed.Generation], Directory.GetDirectories(Path.Combine(output, ExportFolder.GenerationsFolder)).Select(Path.GetFileName));
        await a.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_cancel_on_a_replica_that_does_not_run_the_job_is_seen_by_the_one_that_does(string kind)
    {
        var store = Create(kind);
        var (holder, other) = (Repository(store), Repository(store));
        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        await holder.AddIfAbsentAsync(new Job { Id = "j2", State = JobState.Running, Progress = new JobProgress(), CreatedAt = now, UpdatedAt = now });
        Assert.False(await holder.CancelRequestedAsync("j2"));

        await other.RequestCancelAsync("j2");
        Assert.True(await holder.CancelRequestedAsync("j2"));
        Assert.False(await holder.CancelRequestedAsync("j3"));

        // Submits race across replicas by the store's set-if-absent: the second sees the first's job.
        var (_, created) = await other.AddIfAbsentAsync(new Job { Id = "j2", State = JobState.Queued, CreatedAt = now, UpdatedAt = now });
        Assert.False(created);
    }

    /// <summary>A one-step job on the built-in tiny base (seconds on a CPU).</summary>
    private static TrainingJobSpec TinySpec(string output, GgufExportType gguf) => new()
    {
        BaseModel = "tiny",
        DataPath = RepoPaths.Data("alpaca_data.json"),
        OutputDir = output,
        MaxRecords = 4,
        Device = "cpu",
        Threads = 1,
        ExportGguf = gguf,
        Hyperparameters = new TrainingHyperparameters { Epochs = 1, MaxLength = 64, GlobalBatchSize = 4, MicroBatchSize = 4, Precision = PrecisionMode.Float32 },
    };

    /// <summary>Every file of the export (not the resumable state or the tiny base) with its SHA-256.</summary>
    private static Dictionary<string, string> Snapshot(string output) =>
        Directory.GetFiles(output, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(output, f))
            .Where(f => !f.StartsWith("checkpoints", StringComparison.Ordinal) && !f.StartsWith("base-tiny", StringComparison.Ordinal) && !f.StartsWith(ExportFolder.GenerationsFolder, StringComparison.Ordinal))
            .ToDictionary(f => f, f => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(output, f)))));

    /// <summary>
    /// The test hook for the gap between an export's fenced confirmation and its renames: once the real confirmation
    /// succeeded, the holder waits until the test thaws it, as one frozen exactly there (a GC pause, SIGSTOP) would.
    /// </summary>
    private sealed class FreezeAfterConfirmation(IExportFence inner) : IExportFence
    {
        private readonly TaskCompletionSource _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _thaw = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Confirmed => _confirmed.Task;

        public long FencingToken => inner.FencingToken;

        public void Thaw() => _thaw.TrySetResult();

        public async Task ConfirmAsync(ExportManifest manifest, CancellationToken cancellationToken)
        {
            await inner.ConfirmAsync(manifest, cancellationToken);
            _confirmed.TrySetResult();
            await _thaw.Task;
        }

        public Task<ExportManifest?> ReadConfirmedAsync(CancellationToken cancellationToken) => inner.ReadConfirmedAsync(cancellationToken);
    }

    public void Dispose()
    {
        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        _dir.Dispose();
    }
}
