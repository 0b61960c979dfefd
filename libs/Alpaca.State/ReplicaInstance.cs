namespace Alpaca.State;

/// <summary>
/// Who this process is among the replicas: the pod name (HOSTNAME, which Kubernetes sets to it; the
/// machine name elsewhere) plus a random instance id drawn at start. Not the PID: every container's main
/// process is PID 1, and a restarted pod keeps its name, so only the random part tells a new life of the
/// same pod from the old one whose lease may still be live.
/// </summary>
public static class ReplicaInstance
{
    /// <summary>The lease owner name of this process, e.g. <c>trainer-7d9f-abcde/3f2a9c1b4d5e</c>.</summary>
    public static string Id { get; } = For(Environment.GetEnvironmentVariable("HOSTNAME"));

    /// <summary>A new owner name for a process on <paramref name="host"/> (the machine name when empty).</summary>
    public static string For(string? host) =>
        $"{(string.IsNullOrWhiteSpace(host) ? Environment.MachineName : host.Trim())}/{Guid.NewGuid().ToString("N")[..12]}";
}
