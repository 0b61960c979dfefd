namespace Alpaca.State;

/// <summary>
/// A lease held on a key of an <see cref="IStateStore"/>: exclusive until <see cref="ExpiresAt"/>
/// unless renewed. <see cref="FencingToken"/> grows with every acquisition of the same key (it never
/// goes back, not even after the lease expired or was released), so a write that carries it can be
/// refused when a newer holder exists: a deposed holder's late write compares lower.
/// </summary>
public sealed record StateLease(string Key, string Owner, long FencingToken, DateTimeOffset ExpiresAt);
