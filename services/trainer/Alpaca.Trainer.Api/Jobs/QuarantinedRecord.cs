namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// A job record the service could not read (bad JSON, a record from an incompatible build), moved from
/// <paramref name="Key"/> to <paramref name="QuarantineKey"/> so it no longer breaks every call; an operator
/// can inspect, fix and move it back.
/// </summary>
public sealed record QuarantinedRecord(string JobId, string Key, string QuarantineKey, string Reason);
