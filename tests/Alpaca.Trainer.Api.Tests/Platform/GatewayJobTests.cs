using Alpaca.Contracts.V1;
using Alpaca.Inference;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Prompts;
using Alpaca.Messaging;
using Alpaca.Platform;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Platform;

/// <summary>
/// The trainer behind the gateway as <c>alpaca up --redis</c> composes them (Redis Streams and Redis state; only
/// the trainer, since the flow under test touches no other service): a job submitted through the gateway trains the tiny preset on Alpaca records, exports GGUF, announces
/// it on the model-published stream, and our inference engine loads that GGUF and generates.
/// </summary>
public sealed class GatewayJobTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new("trainer-gateway");

    [Fact]
    public async Task A_job_submitted_through_the_gateway_trains_exports_gguf_publishes_the_model_and_the_engine_serves_it()
    {
        await using var platform = await EmbeddedPlatform.StartAsync([TrainerModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            Redis = redis.Address,
            ExtraSettings = new Dictionary<string, string?>
            {
                ["Alpaca:Trainer:OutputRoot"] = _dir.File("jobs"),
                ["Alpaca:Paths:DataRoots"] = _dir.Path,
                ["Alpaca:Trainer:Threads"] = "2",
                ["Alpaca:Trainer:Device"] = "cpu",
            },
        });
        using var channel = platform.GatewayChannel();
        var client = new TrainerService.TrainerServiceClient(channel);

        // Two real records, seen 200 times: enough for the tiny model to learn their responses by heart (100 ended at
        // a loss of 0.7 on an AVX2-only machine, whose libtorch rounds otherwise than an AVX-512 one, and failed).
        var data = AlpacaSubset.Write(_dir, 2);
        var spec = JobHelpers.Tiny(data, epochs: 200, batch: 2, export: GgufExportType.Q80);
        spec.Hyperparameters.LearningRate = 1e-2;
        spec.ModelName = "alpaca-tiny";
        var job = (await client.SubmitJobAsync(new SubmitJobRequest { Spec = spec })).Job;

        // Watch through the gateway (a server stream over YARP's h2c route) until the job ends.
        var seen = await JobHelpers.WatchToEndAsync(client, job.Id, TimeSpan.FromMinutes(2));
        var final = seen[^1];
        Assert.True(final.State == JobState.Succeeded, $"{final.State}: {final.Error}");
        var losses = seen.Where(j => j.Progress.Step > 0).GroupBy(j => j.Progress.Step).Select(g => g.First().Progress.Loss).ToList();
        output.WriteLine("losses: " + string.Join(" ", losses.Select(l => l.ToString("F3"))));
        Assert.True(losses[^1] < 0.2 * losses[0], $"loss went from {losses[0]} to {losses[^1]}");

        // The model-published event on its Redis stream names the GGUF.
        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        await using (mux)
        {
            var entries = await mux.GetDatabase().StreamRangeAsync("alpaca:stream:" + EventTopics.ModelPublished);
            var published = entries
                .Select(e => EventSerializer.Unwrap<ModelPublished>(EventEnvelope.Parse((byte[])e[Alpaca.Messaging.Redis.RedisStreamsEventBus.EnvelopeField]!)))
                .Single(m => m.JobId == job.Id);
            Assert.Equal("alpaca-tiny", published.ModelName);
            Assert.Equal(final.GgufPath, published.GgufPath);
            Assert.True(File.Exists(published.GgufPath));

            // Our inference engine serves the exported file: fed a trained prompt (Alpaca's template, as train.py
            // builds it), it greedily reproduces the start of the trained response.
            var record = Alpaca.Trainer.Data.AlpacaDataReader.Read(data)[0];
            using var engine = Engine.Load(published.GgufPath, new Alpaca.Inference.Model.ModelOptions { Threads = 2 });
            using var scheduler = new ContinuousBatchScheduler(engine);
            var prompt = engine.Tokenizer.Encode(AlpacaPrompt.Build(record.Instruction, record.Input), engine.Tokenizer.AddBosByDefault);
            Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(
                new SequenceRequest { PromptTokens = prompt, MaxTokens = 16, Sampling = Alpaca.Inference.Sampling.SamplingParams.Greedy },
                CancellationToken.None,
                out var handle));
            var result = await handle!.ReadToEndAsync();
            output.WriteLine($"generated ({result.Finished.CompletionTokens} tokens): {result.Text}");
            output.WriteLine($"trained response: {record.Output}");
            Assert.True(result.Finished.PromptTokens > 10);
            Assert.True(result.Finished.CompletionTokens >= 5, $"only {result.Finished.CompletionTokens} tokens: '{result.Text}'");
            Assert.StartsWith(record.Output[..20], result.Text.TrimStart());
        }
    }

    public void Dispose() => _dir.Dispose();
}
