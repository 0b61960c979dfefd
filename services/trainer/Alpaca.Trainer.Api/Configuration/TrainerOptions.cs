namespace Alpaca.Trainer.Api.Configuration;

/// <summary>
/// The trainer service's settings (section <c>Alpaca:Trainer</c>, e.g. <c>Alpaca__Trainer__Threads</c>).
/// Defaults live here; no appsettings file is needed.
/// </summary>
public sealed class TrainerOptions
{
    public const string Section = "Alpaca:Trainer";

    /// <summary>
    /// Folder under which a job without an explicit output folder writes <c>&lt;job id&gt;/</c>. Empty: beside the
    /// local state folder (<c>&lt;Alpaca:State:Path&gt;-jobs</c>), or <c>.alpaca/trainer-jobs</c>.
    /// </summary>
    public string OutputRoot { get; set; } = "";

    /// <summary>Device of this service's job slot: auto, cpu, cuda or cuda:N; a job's own device wins.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Torch intra-op threads per job (0 = libtorch's default, all cores).</summary>
    public int Threads { get; set; }

    /// <summary>Publish a training-progress event every N optimizer steps (state changes always publish).</summary>
    public int ProgressEventEverySteps { get; set; } = 1;

    /// <summary>
    /// A job whose process dies under it this many times in a row (an OOM kill, a crash: the job is still
    /// RUNNING when the next process starts, with no newer checkpoint) is marked FAILED, freeing the slot.
    /// </summary>
    public int MaxConsecutiveCrashes { get; set; } = 3;

    /// <summary>
    /// How long a replica's claim on a job lasts without a heartbeat (renewed every third of it). A replica
    /// killed mid-job has its job resumed by another after at most this long; shorter means faster takeover
    /// but less slack for a slow state store or a GC pause before a live holder is deposed.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle replica looks for work that no signal announced (a job queued on another
    /// replica, a dead replica's job whose lease expired).</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest page ListJobs returns.</summary>
    public int MaxPageSize { get; set; } = 500;

    /// <summary>The output root after applying the defaults described on <see cref="OutputRoot"/>.</summary>
    public string ResolveOutputRoot(string? statePath) =>
        Path.GetFullPath(OutputRoot is { Length: > 0 } root
            ? root
            : statePath is { Length: > 0 } state
                ? state.TrimEnd('/', '\\') + "-jobs"
                : Path.Combine(".alpaca", "trainer-jobs"));
}
