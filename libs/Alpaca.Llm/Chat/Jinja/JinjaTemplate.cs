namespace Alpaca.Llm.Chat.Jinja;

/// <summary>Bounds on one render, so a hostile template fails with a clear error instead of hanging or exhausting memory.</summary>
public sealed record RenderLimits
{
    public long MaxSteps { get; init; } = 5_000_000;

    public int MaxOutputChars { get; init; } = 4 << 20;

    public int MaxCallDepth { get; init; } = 100;

    public long MaxRangeLength { get; init; } = 1_000_000;
}

/// <summary>
/// A Jinja2 template as Hugging Face chat templates use it, with the semantics of @huggingface/jinja (the
/// engine of transformers.js, which our oracle tests run): parsed once, rendered many times. Parse and render
/// errors are <see cref="JinjaException"/>s naming the line and column.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> _program;

    private JinjaTemplate(string source, List<Node> program)
    {
        Source = source;
        _program = program;
    }

    public string Source { get; }

    /// <summary>Parses a template (with transformers' trim_blocks and lstrip_blocks); throws <see cref="JinjaException"/> on a syntax error.</summary>
    public static JinjaTemplate Parse(string source)
    {
        var tokens = Lexer.Tokenize(source);
        var lines = source.Split('\n');
        var end = new SourcePos(lines.Length, lines[^1].Length + 1);
        return new JinjaTemplate(source, Parser.Parse(tokens, end));
    }

    /// <summary>
    /// Renders with the given variables (strings, numbers, booleans, null, <see cref="System.Text.Json.Nodes.JsonNode"/>s
    /// for messages and tools). <paramref name="now"/> feeds <c>strftime_now</c> (local time by default).
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, RenderLimits? limits = null, Func<DateTime>? now = null)
    {
        limits ??= new RenderLimits();
        var globals = new Scope(null);
        Globals.Install(globals, limits, now ?? (() => DateTime.Now));
        foreach (var (name, value) in variables)
        {
            globals.Set(name, Values.FromClr(value));
        }

        return new Interpreter(limits).Render(_program, globals);
    }
}
