using System.Diagnostics.Metrics;
using Alpaca.Dedup.Api;
using Alpaca.Generator.Api;
using Alpaca.Inference.Api;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Platform;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api;
using Microsoft.Playwright;

namespace Alpaca.Console.Tests;

/// <summary>
/// One embedded platform with every service (as <c>alpaca up</c> composes it) and one headless Debian chromium for
/// the whole class: the inference service serves a "slow" model at start (wide enough that an answer takes seconds
/// on two cores, so a test can watch it grow and stop it), and two tiny models wait in the model folder for the
/// console to load. Each test gets its own browser context (its own sessionStorage, so the key is asked for).
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly TempDir _dir = new("alpaca-console");
    private IPlaywright? _playwright;
    private MeterListener? _listener;
    private long _aborted;

    public EmbeddedPlatform Platform { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string ModelA => Path.Combine(_dir.Path, "models", "tiny-a.gguf");

    public string ModelB => Path.Combine(_dir.Path, "models", "tiny-b.gguf");

    public string DataDir => Path.Combine(_dir.Path, "data");

    /// <summary>Generations the inference service ended because the client went away (its <c>finished_reason="abort"</c> count).</summary>
    public long Aborted => Interlocked.Read(ref _aborted);

    public static string Screenshots => Path.Combine(RepoPaths.Root, "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: scripts/setup.sh installs Debian's chromium package (apt-get install chromium).");
        }

        Directory.CreateDirectory(Path.Combine(_dir.Path, "models"));
        Directory.CreateDirectory(DataDir);
        var slow = Path.Combine(_dir.Path, "models", "slow.gguf");
        await Task.WhenAll(
            Task.Run(() => TinyModelFactory.WriteGguf(slow, new TinyModelSpec { Config = TinyModelFactory.Tiny(dim: 512, layers: 8, heads: 8, kvHeads: 8, ffn: 1536, vocab: 512, context: 1024), Name = "slow", Seed = 11 }, GgmlType.Q8_0)),
            Task.Run(() => TinyModelFactory.WriteGguf(ModelA, new TinyModelSpec { Config = TinyModelFactory.Tiny(context: 256), Name = "tiny-a", Seed = 1 }, GgmlType.Q8_0)),
            Task.Run(() => TinyModelFactory.WriteGguf(ModelB, new TinyModelSpec { Config = TinyModelFactory.Tiny(context: 256), Name = "tiny-b", Seed = 2 }, GgmlType.Q8_0)));

        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Alpaca.Inference" && instrument.Name == "alpaca_request_success")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "finished_reason" && (string?)tag.Value == "abort")
                {
                    Interlocked.Add(ref _aborted, value);
                }
            }
        });
        _listener.Start();

        var inference = new Dictionary<string, string?>(InferenceModule.ServeAtStart(slow))
        {
            ["Alpaca:Inference:ModelName"] = "slow",
            ["Alpaca:Inference:MaxSequences"] = "2",
            ["Alpaca:Inference:Threads"] = "2",
        };
        var trainer = new Dictionary<string, string?>
        {
            ["Alpaca:Trainer:OutputRoot"] = Path.Combine(_dir.Path, "jobs"),
            ["Alpaca:Paths:DataRoots"] = DataDir,
            ["Alpaca:Trainer:Threads"] = "2",
            ["Alpaca:Trainer:Device"] = "cpu",
        };
        Platform = await EmbeddedPlatform.StartAsync(
            [GeneratorModule.Instance, DedupModule.Instance, TrainerModule.Instance, InferenceModule.Instance],
            new EmbeddedPlatformOptions
            {
                GatewayPort = 0,
                GatewayHttpPort = 0,
                StateDirectory = Path.Combine(_dir.Path, "state"),
                ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>> { ["inference"] = inference, ["trainer"] = trainer },
            });
        await InferenceModule.WaitForModelAsync(Platform.App("inference"), TimeSpan.FromSeconds(60));

        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>A new tab on the console (a fresh context: nothing in sessionStorage); enters <paramref name="key"/> (default: the admin key) when asked.</summary>
    public async Task<IPage> OpenConsoleAsync(string tab = "chat", string? key = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Platform.Console, "#" + tab).ToString());
        // Authentication is on, so the page asks for a key before its first data call.
        await Assertions.Expect(page.GetByTestId("key-dialog")).ToBeVisibleAsync();
        await page.GetByTestId("api-key-input").FillAsync(key ?? Platform.AdminKey!);
        await page.GetByTestId("api-key-save").ClickAsync();
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Platform is not null)
        {
            await Platform.DisposeAsync();
        }

        _listener?.Dispose();
        _dir.Dispose();
    }
}
