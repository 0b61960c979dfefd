using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>
/// One progress display for every stage of the recipe: a Spectre.Console bar per stage on a terminal, plain
/// lines (<c>[stage] detail</c>, at most one a second per stage unless the stage ends) when output is
/// redirected, so logs and tests read the same facts. Each stage's wall time is kept for the summary.
/// </summary>
internal sealed class RecipeView
{
    private readonly bool _interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
    private readonly List<RecipeStage> _stages = [];
    private ProgressContext? _context;

    public IReadOnlyList<RecipeStage> Stages => _stages;

    public async Task RunAsync(Func<RecipeView, Task> body)
    {
        if (!_interactive)
        {
            await body(this);
            return;
        }

        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                _context = context;
                await body(this);
            });
        _context = null;
    }

    public RecipeStage Stage(string name)
    {
        var stage = new RecipeStage(name, _context?.AddTask(Markup.Escape(name), maxValue: 1));
        _stages.Add(stage);
        return stage;
    }

    /// <summary>A line outside any stage (plain mode only; a terminal shows it after the bars).</summary>
    public void Line(string text)
    {
        if (_context is null)
        {
            Console.WriteLine(text);
        }
    }

    public void PrintTimes()
    {
        Console.WriteLine("times: " + string.Join(", ", _stages.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.Elapsed.TotalSeconds:F1} s"))));
    }
}

internal sealed class RecipeStage(string name, ProgressTask? task)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastLineMs = -10_000;
    private string _lastDetail = "";

    public string Name { get; } = name;

    public TimeSpan Elapsed { get; private set; }

    public void Update(double value, double max, string detail)
    {
        if (task is not null)
        {
            task.MaxValue = Math.Max(max, 1);
            task.Value = Math.Min(value, task.MaxValue);
            task.Description = Markup.Escape($"{Name}: {detail}");
            return;
        }

        // Plain lines: a changed fact at most once a second, so a long stage does not flood a log.
        var now = _clock.ElapsedMilliseconds;
        if (detail != _lastDetail && now - _lastLineMs >= 1000)
        {
            _lastLineMs = now;
            _lastDetail = detail;
            Console.WriteLine($"[{Name}] {detail}");
        }
    }

    public void Done(string detail)
    {
        Elapsed = _clock.Elapsed;
        if (task is not null)
        {
            task.Value = task.MaxValue;
            task.Description = Markup.Escape($"{Name}: {detail}");
            task.StopTask();
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Name}] done: {detail} ({Elapsed.TotalSeconds:F1} s)"));
    }
}
