using System.Text.Json;
using Alpaca.Contracts.V1;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Alpaca.Console.Tests;

/// <summary>The dashboards in chromium: a training job's live loss chart, and the evaluation reports.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DashboardTests(ConsoleFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_training_jobs_loss_chart_gains_points_while_the_job_trains()
    {
        // Four Alpaca-format records, two per optimizer step, for 25 epochs: 50 short steps of the tiny preset.
        var data = Path.Combine(fixture.DataDir, "chart.json");
        var records = Enumerable.Range(0, 4).Select(i => new { instruction = $"Count to {i + 3}.", input = "", output = string.Join(", ", Enumerable.Range(1, i + 3)) + "." });
        await File.WriteAllTextAsync(data, JsonSerializer.Serialize(records));
        using var channel = fixture.Platform.GatewayChannel();
        var trainer = new TrainerService.TrainerServiceClient(channel);
        var job = (await trainer.SubmitJobAsync(new SubmitJobRequest
        {
            Spec = new JobSpec
            {
                BaseModelPreset = "tiny",
                DatasetPath = data,
                ExportGguf = GgufExportType.None,
                Device = "cpu",
                ModelName = "chart-job",
                Hyperparameters = new Hyperparameters { Epochs = 25, LearningRate = 5e-3, GlobalBatchSize = 2, MicroBatchSize = 2, MaxLength = 64, Seed = 7 },
            },
        })).Job;

        var page = await fixture.OpenConsoleAsync("training");
        var chart = page.GetByTestId("loss-chart");
        await Assertions.Expect(page.GetByTestId("loss-job")).ToContainTextAsync(job.Id);

        // Sample the chart while the job trains: its point count must rise in several steps, not jump at the end.
        var counts = new List<int>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Job current;
        do
        {
            current = (await trainer.GetJobAsync(new GetJobRequest { JobId = job.Id })).Job;
            counts.Add(int.Parse((await chart.GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture));
            if (counts.Count == 10)
            {
                await ConsoleFixture.ScreenshotAsync(page, "training-running");
            }

            await Task.Delay(100);
        }
        while (current.State is JobState.Queued or JobState.Running or JobState.Exporting && DateTime.UtcNow < deadline);

        Assert.True(current.State == JobState.Succeeded, $"{current.State}: {current.Error}");
        var whileRunning = counts.Where(c => c > 0).Distinct().ToList();
        output.WriteLine($"{counts.Count} samples; point counts seen while training: {string.Join(" ", whileRunning)}; steps {current.Progress.TotalSteps}");
        Assert.True(whileRunning.Count >= 3, $"the chart grew in {whileRunning.Count} step(s): {string.Join(" ", whileRunning)}");
        Assert.Equal(whileRunning.Order(), whileRunning);

        // Every step's loss ends up on the chart, one point per step the page saw (the first steps may predate it).
        await Assertions.Expect(page.GetByTestId("loss-job")).ToContainTextAsync("succeeded");
        var points = int.Parse((await chart.GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(points, whileRunning[^1], (int)current.Progress.TotalSteps);
        Assert.Equal(points, await chart.Locator("circle.point").CountAsync());
        await ConsoleFixture.ScreenshotAsync(page, "training-done");
    }

    [Fact]
    public async Task The_reports_list_shows_a_report_in_the_reports_folder_and_opens_it_sandboxed()
    {
        var folder = Path.Combine(fixture.Platform.ReportsDirectory, "eval-tiny");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.html"), """
            <!doctype html><html><body><h1>Self-Instruct evaluation: tiny</h1><p id="storage">?</p>
            <script>
              let text;
              try { sessionStorage.getItem('alpaca.apiKey'); text = 'storage: readable'; } catch (e) { text = 'storage: blocked'; }
              document.getElementById('storage').textContent = text;
            </script></body></html>
            """);

        var page = await fixture.OpenConsoleAsync("reports");
        var link = page.GetByTestId("report-link").Filter(new() { HasText = "eval-tiny/report.html" });
        await Assertions.Expect(link).ToHaveCountAsync(1);
        await link.ClickAsync();
        var frame = page.FrameLocator("[data-testid=report-frame]");
        await Assertions.Expect(frame.Locator("h1")).ToHaveTextAsync("Self-Instruct evaluation: tiny");
        // The report's own script ran, in an opaque origin that cannot read the console's key.
        await Assertions.Expect(frame.Locator("#storage")).ToHaveTextAsync("storage: blocked");
        await ConsoleFixture.ScreenshotAsync(page, "reports");
    }
}
