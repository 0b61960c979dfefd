using Alpaca.State;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>A fenced write of a job was refused: another replica holds a newer lease on it, so this one must stop.</summary>
public sealed class JobLeaseLostException(string jobId, StateLease lease)
    : Exception($"Job '{jobId}' was taken over by another replica (this replica's lease token {lease.FencingToken} is no longer the newest); its write was refused.");
