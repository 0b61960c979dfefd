using System.Diagnostics;
using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Inference.Api.Tests.Grpc;

/// <summary>Readiness, load/unload, hot swap under load, and auto-loading a published model.</summary>
public sealed class ModelLifecycleTests
{
    private static GenerateRequest Greedy(string prompt, int maxTokens) => new()
    {
        Prompt = prompt,
        Sampling = new SamplingParameters { Temperature = 0 },
        Stopping = new StoppingCriteria { MaxTokens = maxTokens, IgnoreEos = true },
    };

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < timeout, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Readiness_is_false_until_a_model_is_loaded()
    {
        await using var server = await InferenceServer.StartAsync(model: null);
        var health = new global::Grpc.Health.V1.Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = InferenceService.Descriptor.FullName })).Status);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await server.HttpClient.GetAsync("/readyz")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await server.HttpClient.GetAsync("/healthz")).StatusCode);
        Assert.True((await server.Client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.False((await server.Client.ServerReadyAsync(new ServerReadyRequest())).Ready);

        var ex = await Assert.ThrowsAsync<RpcException>(() => server.Client.CompleteAsync(new CompleteRequest { Request = Greedy("x", 3) }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("No model is loaded", ex.Status.Detail, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = Path.Combine(TestModels.Folder, "no-such-model.gguf") }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var junk = Path.Combine(TestModels.Folder, $"alpaca-not-a-model-{Guid.NewGuid():N}.gguf");
        await File.WriteAllTextAsync(junk, "not a GGUF file");
        try
        {
            var bad = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = junk, Name = "junk" }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
            var failed = Assert.Single((await server.Client.ListModelsAsync(new ListModelsRequest())).Models);
            Assert.Equal(ModelState.Failed, failed.State);
            Assert.NotEmpty(failed.Error);
            Assert.True((await server.Client.UnloadModelAsync(new UnloadModelRequest { Model = "junk" })).Unloaded);
        }
        finally
        {
            File.Delete(junk);
        }

        var loaded = await server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "first" });
        Assert.Equal(ModelState.Ready, loaded.Info.State);
        Assert.True(loaded.Info.IsDefault);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = InferenceService.Descriptor.FullName })).Status);
        Assert.Equal("Healthy", await server.HttpClient.GetStringAsync("/readyz"));
        Assert.Equal(3, (await server.Client.CompleteAsync(new CompleteRequest { Request = Greedy("x", 3) })).Result.Usage.CompletionTokens);

        Assert.True((await server.Client.UnloadModelAsync(new UnloadModelRequest { Model = "first" })).Unloaded);
        Assert.False((await server.Client.UnloadModelAsync(new UnloadModelRequest { Model = "first" })).Unloaded);
        Assert.False((await server.Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.Empty((await server.Client.ListModelsAsync(new ListModelsRequest())).Models);
    }

    [Fact]
    public async Task Hot_swap_under_load_loses_no_request_and_old_requests_finish_on_the_old_model()
    {
        const string prompt = "Once upon a time";
        const int tokens = 500;
        string oldText, newText;
        using (var engine = Engine.Load(TestModels.Long(7)))
        {
            oldText = (await DirectGeneration.GreedyAsync(engine, prompt, tokens)).Text;
        }

        using (var engine = Engine.Load(TestModels.Long(8)))
        {
            newText = (await DirectGeneration.GreedyAsync(engine, prompt, tokens)).Text;
        }

        Assert.NotEqual(oldText, newText);

        await using var server = await InferenceServer.StartAsync(TestModels.Long(7), maxSequences: 4, maxQueue: 16);
        var oldScheduler = server.Registry.Resolve("tiny").Scheduler;

        // Six requests on the old model: four running, two queued. Each is confirmed to have reached the
        // scheduler before the next is sent, so none can be routed to the new model, whatever the load.
        var before = new List<Task<CompleteResponse>>();
        for (var i = 0; i < 6; i++)
        {
            before.Add(server.Client.CompleteAsync(new CompleteRequest { Request = Greedy(prompt, tokens) }).ResponseAsync);
            var expected = i + 1;
            await WaitUntil(() => oldScheduler.InFlight == expected, TimeSpan.FromSeconds(30), $"request {expected} to reach the scheduler");
        }

        await WaitUntil(() => oldScheduler.Running == 4 && oldScheduler.Waiting == 2, TimeSpan.FromSeconds(30), "four running and two queued");

        var swap = await server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Long(8), Name = "tiny" });
        Assert.Equal(ModelState.Ready, swap.Info.State);
        Assert.True(oldScheduler.IsDraining);
        Assert.False(oldScheduler.Drained.IsCompleted, "the old model should still be serving its requests");
        var listed = (await server.Client.ListModelsAsync(new ListModelsRequest())).Models;
        Assert.Contains(listed, m => m.State == ModelState.Draining && m.Path == Path.GetFileName(TestModels.Long(7)));

        var after = Enumerable.Range(0, 2).Select(_ => server.Client.CompleteAsync(new CompleteRequest { Request = Greedy(prompt, tokens) }).ResponseAsync).ToList();
        var beforeReplies = await Task.WhenAll(before);
        var afterReplies = await Task.WhenAll(after);
        Assert.All(beforeReplies.Concat(afterReplies), r =>
        {
            Assert.Equal(FinishReason.Length, r.Result.FinishReason);
            Assert.Equal(tokens, r.Result.Usage.CompletionTokens);
        });
        Assert.All(beforeReplies, r => Assert.Equal(oldText, r.Text));
        Assert.All(afterReplies, r => Assert.Equal(newText, r.Text));

        // The old engine is released once drained.
        await oldScheduler.Drained.WaitAsync(TimeSpan.FromSeconds(10));
        await WaitUntil(() => server.Registry.List().Count == 1, TimeSpan.FromSeconds(10), "the old model to be released");
        Assert.Equal(TestModels.Long(8), server.Registry.List()[0].Path);
    }

    [Fact]
    public async Task A_published_model_is_loaded_automatically_when_configured()
    {
        await using var server = await InferenceServer.StartAsync(model: null, extra: new Dictionary<string, string?> { ["Alpaca:Inference:AutoLoadPublished"] = "true", ["Alpaca:Inference:AutoDefaultPublished"] = "true" });
        var bus = server.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(new ModelPublished { ModelName = "fine-tune-1", GgufPath = TestModels.Tiny(), JobId = "job-1", Quantization = "Q8_0" });
        await server.Registry.WhenReadyAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var info = (await server.Client.GetModelInfoAsync(new GetModelInfoRequest())).Info;
        Assert.Equal("fine-tune-1", info.Name);
        Assert.True(info.IsDefault);
    }
    // Issue 12: a published model (a training job's output, maybe from a hostile teacher's data) is loaded,
    // but it replaces what callers naming no model are served only when the operator chose that.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AutoDefaultPublished_decides_whether_a_published_model_becomes_the_default(bool autoDefault)
    {
        await using var server = await InferenceServer.StartAsync(model: TestModels.Tiny(), extra: new Dictionary<string, string?>
        {
            ["Alpaca:Inference:AutoLoadPublished"] = "true",
            ["Alpaca:Inference:AutoDefaultPublished"] = autoDefault ? "true" : "false",
        });
        await server.Registry.WhenReadyAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("tiny", (await server.Client.GetModelInfoAsync(new GetModelInfoRequest())).Info.Name);

        await server.Services.GetRequiredService<IEventBus>().PublishAsync(new ModelPublished { ModelName = "published-1", GgufPath = TestModels.Tiny(seed: 3), JobId = "job-p", Quantization = "Q8_0" });
        var watch = Stopwatch.StartNew();
        ModelInfo? published = null;
        while (published is not { State: ModelState.Ready })
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "timed out waiting for the published model to load");
            await Task.Delay(20);
            published = (await server.Client.ListModelsAsync(new ListModelsRequest())).Models.FirstOrDefault(m => m.Name == "published-1");
        }

        var served = (await server.Client.GetModelInfoAsync(new GetModelInfoRequest())).Info;
        Assert.Equal(autoDefault ? "published-1" : "tiny", served.Name);
        Assert.True(served.IsDefault);
        Assert.Equal(autoDefault, published.IsDefault);
    }
}
