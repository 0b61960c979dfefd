using Alpaca.State;

namespace Alpaca.Generator.Api.Runs;

/// <summary>A fenced write of a run was refused: another replica holds a newer lease on it, so this one must stop.</summary>
public sealed class RunLeaseLostException(string runId, StateLease lease)
    : Exception($"Run '{runId}' was taken over by another replica (this replica's lease token {lease.FencingToken} is no longer the newest); its write was refused.");
