using System.Globalization;
using Alpaca.Llm.Hub;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Pull;

/// <summary>Runs a pull behind a progress bar per file, or plain lines (each 10% of a file) when output is redirected.</summary>
internal static class PullProgressView
{
    public static async Task<HubPullResult> RunAsync(HubReference reference, CancellationToken ct)
    {
        var cache = HubCache.FromEnvironment();
        using var client = HubClient.FromEnvironment();
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lastDecile = new Dictionary<string, long>(StringComparer.Ordinal);
            var puller = new HubPuller(client, cache)
            {
                Log = line => Console.Error.WriteLine(line),
                Progress = p =>
                {
                    var decile = p.Total == 0 ? 10 : p.Done * 10 / p.Total;
                    if (!lastDecile.TryGetValue(p.File, out var last) || decile > last)
                    {
                        lastDecile[p.File] = decile;
                        Console.Error.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0}: {1:N0} / {2:N0} bytes ({3}%)", p.File, p.Done, p.Total, decile * 10));
                    }
                },
            };
            return await puller.PullAsync(reference, ct);
        }

        HubPullResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var puller = new HubPuller(client, cache)
                {
                    Log = line => AnsiConsole.MarkupLine("[grey]" + Markup.Escape(line) + "[/]"),
                    Progress = p =>
                    {
                        if (!tasks.TryGetValue(p.File, out var task))
                        {
                            tasks[p.File] = task = context.AddTask(Markup.Escape(p.File), maxValue: Math.Max(1, p.Total));
                        }

                        task.Value = p.Done;
                    },
                };
                result = await puller.PullAsync(reference, ct);
            });
        return result!;
    }
}
