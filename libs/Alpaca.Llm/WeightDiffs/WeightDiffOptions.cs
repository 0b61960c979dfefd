namespace Alpaca.Llm.WeightDiffs;

/// <summary>Knobs of <see cref="WeightDiff"/>; the defaults suit real checkpoints.</summary>
public sealed class WeightDiffOptions
{
    /// <summary>Elements per processing chunk: the working buffers are two chunks, whatever the tensor or model size.</summary>
    public int ChunkElements { get; init; } = 1 << 20;

    /// <summary>Progress lines (one per shard).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Called when a tensor starts and when it is finished (test hook: tensors are processed strictly one at a time).</summary>
    public Action<string, bool>? OnTensor { get; init; }
}

/// <summary>What a diff or a recovery did.</summary>
public sealed record WeightDiffReport(
    int Tensors,
    long Elements,
    long Exceptions,
    double Sum,
    string TunedSha256,
    long PeakBufferBytes,
    IReadOnlyList<string> Files)
{
    public override string ToString() =>
        $"{Tensors} tensors, {Elements} elements, {Exceptions} exact-recovery exceptions, sum {Sum:R}, sha256 {TunedSha256}, {Files.Count} files";
}

/// <summary>The diff does not belong to this base, or the recovered weights are not the tuned ones.</summary>
public sealed class WeightDiffIntegrityException(string message) : Exception(message);
