namespace Alpaca.Llm.Chat.Jinja;

/// <summary>
/// A chat template that does not parse, or fails while rendering (an unknown filter, a type error,
/// <c>raise_exception(...)</c>, a resource limit). <see cref="Line"/> and <see cref="Column"/> (1-based, in the
/// template as written) point at the construct at fault, 0 when unknown.
/// </summary>
public sealed class JinjaException : Exception
{
    public JinjaException(string reason, int line = 0, int column = 0, bool raised = false)
        : base(line > 0 ? $"{reason} (line {line}, column {column})" : reason)
    {
        Reason = reason;
        Line = line;
        Column = column;
        Raised = raised;
    }

    /// <summary>The message without the position.</summary>
    public string Reason { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>True when the template itself called <c>raise_exception</c> (the caller's input was refused).</summary>
    public bool Raised { get; }

    internal JinjaException At(SourcePos pos) => Line > 0 || pos.Line == 0 ? this : new JinjaException(Reason, pos.Line, pos.Column, Raised);
}

/// <summary>A 1-based line and column in the template as written.</summary>
internal readonly record struct SourcePos(int Line, int Column);
