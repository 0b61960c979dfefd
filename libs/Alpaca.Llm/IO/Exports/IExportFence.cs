namespace Alpaca.Llm.IO.Exports;

/// <summary>
/// Where a job's or run's exports are confirmed: a fenced write in the state store (the holder's lease token is
/// checked there), and the read of the newest confirmed manifest. Implemented by the trainer's job repository and the
/// generator's run store; the export machinery (<see cref="ExportGeneration"/>, <see cref="ExportFolder"/>) only
/// needs these two steps and the token.
/// </summary>
public interface IExportFence
{
    /// <summary>
    /// The fencing token of the lease the caller writes under (0 without leases). It orders generations across
    /// holders: a later holder's token is greater, so its generation folders outlive an earlier holder's.
    /// </summary>
    long FencingToken { get; }

    /// <summary>Records <paramref name="manifest"/> as the confirmed export, or throws when the caller may no longer write (deposed).</summary>
    Task ConfirmAsync(ExportManifest manifest, CancellationToken cancellationToken);

    /// <summary>The newest confirmed manifest, or null when none was confirmed.</summary>
    Task<ExportManifest?> ReadConfirmedAsync(CancellationToken cancellationToken);
}

/// <summary>
/// This holder's export was confirmed, but by the time its files were in place a newer holder had confirmed its own;
/// the newer export was put back and this one discarded. The holder is deposed and must stop.
/// </summary>
public sealed class ExportSupersededException(string outputDir, ExportManifest mine, ExportManifest newer)
    : IOException($"The export of {outputDir} (generation {mine.Generation}, token {mine.FencingToken}) was superseded by generation {newer.Generation} (token {newer.FencingToken}{(newer.Owner is null ? "" : ", " + newer.Owner)}) while it was put in place; the newer files were restored and this holder stops.")
{
    public ExportManifest Mine { get; } = mine;

    public ExportManifest Newer { get; } = newer;
}

/// <summary>The confirmed export's generation folder is gone and the files in place do not match its manifest.</summary>
public sealed class ExportMissingException(string message) : IOException(message);
