namespace Alpaca.Generator.Api.Configuration;

/// <summary>Configuration section <c>Alpaca:Generator</c> (environment: <c>Alpaca__Generator__DedupMode</c> etc.).</summary>
public sealed class GeneratorOptions
{
    public const string Section = "Alpaca:Generator";

    /// <summary>Folder under which a run without an output_dir writes <c>{run-id}/regen.json</c> and <c>alpaca_data.json</c>.</summary>
    public string DataDirectory { get; set; } = Path.Combine(".alpaca", "generator", "runs");

    /// <summary>Runs generating at once; more are queued.</summary>
    public int MaxActiveRuns { get; set; } = 4;

    /// <summary>
    /// <c>pubsub</c> (default): candidates go to the dedup service as CandidatesProduced events and its
    /// InstructionDecided events come back; the namespace is created through its gRPC API.
    /// <c>inprocess</c>: the exact ROUGE-L engine in this process (a standalone generator without a dedup service).
    /// </summary>
    public string DedupMode { get; set; } = "pubsub";

    /// <summary>The dedup service's gRPC address (namespace creation); the Kubernetes service name by default.</summary>
    public string DedupAddress { get; set; } = "http://dedup:8080";

    /// <summary>How long to wait for the decisions of a published round before publishing the missing ones again.</summary>
    public TimeSpan DecisionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the dedup service may stay unreachable when a run creates its namespace.</summary>
    public TimeSpan DedupUnavailableBudget { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Default of a run's unreachable-teacher budget when its request gives none.</summary>
    public TimeSpan UnreachableBudget { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>First pause before a failed round is retried (doubles up to a minute).</summary>
    public TimeSpan PauseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often regen.json and alpaca_data.json are rewritten while a run is going.</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// TTL of a run's lease (<c>generator/runs/{id}</c>), renewed every third of it: how long a killed replica's
    /// runs wait before another replica resumes them. Every write of a run is fenced by the lease's token.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a replica looks for runs to claim (queued, or left by a dead holder) and for cancel requests.</summary>
    public TimeSpan RunPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a round waiting for dedup decisions rereads the durable inbox: a decision may be handled by
    /// another replica (replicas share one consumer group), which records it there.
    /// </summary>
    public TimeSpan DecisionPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Base delay of the teacher client's per-request back-off.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where a caller's output_dir must lie (<c>Alpaca:Generator:OutputRoot</c>); unset, <see cref="DataDirectory"/>.
    /// Seed and prompt files are read only from <c>Alpaca:Paths:DataRoots</c> (unset: this root).
    /// </summary>
    public string? OutputRoot { get; set; }

    /// <summary>Teachers a run can name (<c>Alpaca:Generator:Teachers:{name}</c>).</summary>
    public Dictionary<string, TeacherDefinition> Teachers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Admin callers may give their own base_url (sent without a key). Off by default.</summary>
    public bool AllowCustomTeachers { get; set; }

    /// <summary>Every teacher may be reached on loopback, private and link-local addresses. Off by default.</summary>
    public bool AllowPrivateTeacherAddresses { get; set; }

    /// <summary>Largest teacher response body read (bytes); a larger one fails the request.</summary>
    public long MaxTeacherResponseBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Request size limits (<c>Alpaca:Generator:Limits</c>).</summary>
    public GeneratorLimits Limits { get; set; } = new();

    public bool UsesPubSub => string.Equals(DedupMode, "pubsub", StringComparison.OrdinalIgnoreCase);
}
