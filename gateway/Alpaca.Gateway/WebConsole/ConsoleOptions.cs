namespace Alpaca.Gateway.WebConsole;

/// <summary>Configuration section <c>Alpaca:Console</c> (docs/console.md).</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Alpaca:Console";

    /// <summary>Serve the web console at <c>/console/</c> (on by default).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Folder of evaluation reports (<c>alpaca eval --out</c> writes <c>report.html</c> files there) the console lists
    /// and opens; unset = none. The embedded platform sets <c>&lt;state&gt;/reports</c>.
    /// </summary>
    public string? ReportsDir { get; set; }
}
