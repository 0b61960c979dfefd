using System.Collections.Concurrent;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Teacher;
using Alpaca.Llm.IO.Exports;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Support;

/// <summary>Wires a run the way the embedded default does: a folder store, the in-process dedup, the HTTP teacher.</summary>
public sealed class RunKit : IDisposable
{
    private readonly TempDir _dir = new("alpaca-gen");

    public RunKit() => Store = new FileRunStore(Path.Combine(_dir.Path, "runs"));

    public FileRunStore Store { get; }

    public string OutputDir => Path.Combine(_dir.Path, "out");

    public SelfInstructRunSpec Spec(string runId, int target) => new()
    {
        RunId = runId,
        Seeds = TestData.Seeds,
        PromptText = PromptTemplate.Default.Text,
        PromptSource = PromptTemplate.Default.Source,
        NumInstructions = target,
        OutputDir = OutputDir,
        Seed = 1234,
        ExportInterval = TimeSpan.FromHours(1),
        PauseDelay = TimeSpan.FromMilliseconds(50),
        PromptPricePer1K = 0.02,
        CompletionPricePer1K = 0.02,
    };

    public static OpenAiTeacherClient Client(Uri baseUrl, TeacherApi api = TeacherApi.Completions) => new(new TeacherOptions
    {
        BaseUrl = baseUrl,
        Model = "teacher",
        Api = api,
        Retry = new RetryPolicy { MaxRetries = 2, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(40) },
        RequestTimeout = TimeSpan.FromSeconds(30),
    });

    public void Dispose() => _dir.Dispose();
}

/// <summary>Keeps the events it is given (stands in for the platform's pub/sub).</summary>
public sealed class RecordingPublisher : IDatasetPublisher
{
    public ConcurrentQueue<DatasetPublication> Published { get; } = new();

    public Task PublishAsync(DatasetPublication publication, CancellationToken cancellationToken = default)
    {
        Published.Enqueue(publication);
        return Task.CompletedTask;
    }
}

/// <summary>Where the simulated power cut hits a round.</summary>
public enum CrashPoint
{
    /// <summary>After the pending round was checkpointed and decided, before its kept records were written.</summary>
    BeforeAppend,

    /// <summary>After the kept records were written, before the checkpoint that completes the round.</summary>
    AfterAppend,
}

/// <summary>
/// The real folder store with a simulated power cut in the n-th round that keeps something: the write at
/// <see cref="CrashPoint"/> fails and nothing after it reaches the disk.
/// </summary>
public sealed class CrashingStore(FileRunStore inner, int crashAtAppend, CrashPoint point) : IRunStore
{
    private int _appends;
    private bool _crashed;

    public Task<StoredRun?> LoadAsync(string runId, CancellationToken cancellationToken = default) => inner.LoadAsync(runId, cancellationToken);

    public Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) => inner.CreateAsync(spec, checkpoint, cancellationToken);

    public Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
        _crashed ? throw new IOException("simulated crash: the disk is gone") : inner.SaveCheckpointAsync(runId, checkpoint, cancellationToken);

    public async Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, CancellationToken cancellationToken = default)
    {
        if (_crashed)
        {
            throw new IOException("simulated crash: the disk is gone");
        }

        var crashNow = records.Count > 0 && ++_appends == crashAtAppend;
        if (crashNow && point == CrashPoint.BeforeAppend)
        {
            _crashed = true;
            throw new IOException("simulated crash before the kept-log append");
        }

        await inner.AppendKeptAsync(runId, records, cancellationToken);
        _crashed |= crashNow;
    }

    public Task ConfirmExportAsync(string runId, ExportManifest export, CancellationToken cancellationToken = default) =>
        inner.ConfirmExportAsync(runId, export, cancellationToken);

    public Task<ExportManifest?> LoadExportAsync(string runId, CancellationToken cancellationToken = default) => inner.LoadExportAsync(runId, cancellationToken);

    public Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken cancellationToken = default) => inner.ListRunIdsAsync(cancellationToken);
}
