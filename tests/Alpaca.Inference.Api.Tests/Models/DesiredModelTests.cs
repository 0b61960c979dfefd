using System.Diagnostics;
using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Inference.Api.Tests.Models;

/// <summary>
/// Two inference replicas on one Redis (Redis Streams, one consumer group, Redis state): a ModelPublished
/// event reaches one of them, yet both end up serving the new model as the default, through the desired-state
/// record; a replica started after the publication serves it too.
/// </summary>
public sealed class DesiredModelTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private Dictionary<string, string?> Shared(string prefix) => new()
    {
        ["Alpaca:State:Store"] = "redis",
        ["Alpaca:State:Prefix"] = prefix,
        ["Alpaca:Messaging:Transport"] = "redis",
        ["Alpaca:Redis"] = redis.Address,
        ["Alpaca:Inference:AutoLoadPublished"] = "true",
        ["Alpaca:Inference:AutoDefaultPublished"] = "true",
        ["Alpaca:Inference:ReconcileInterval"] = "00:00:01",
    };

    [Fact]
    public async Task Both_replicas_serve_a_newly_published_model_and_a_late_replica_too()
    {
        var settings = Shared($"desired-{Guid.NewGuid():N}:");
        await using var a = await InferenceServer.StartAsync(model: null, extra: settings);
        await using var b = await InferenceServer.StartAsync(model: null, extra: settings);

        var published = new ModelPublished { ModelName = "fine-tune-2", GgufPath = TestModels.Tiny(), JobId = "job-2", PublishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow) };
        await a.Services.GetRequiredService<IEventBus>().PublishAsync(published);

        await ServesAsync(a, "fine-tune-2");
        await ServesAsync(b, "fine-tune-2");

        // A newer publication under the same name replaces it everywhere (a hot swap to the new file).
        var newer = TestModels.Tiny(seed: 5);
        await b.Services.GetRequiredService<IEventBus>().PublishAsync(new ModelPublished
        {
            ModelName = "fine-tune-2",
            GgufPath = newer,
            JobId = "job-3",
            PublishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddSeconds(1)),
        });
        await ServesAsync(a, "fine-tune-2", newer);
        await ServesAsync(b, "fine-tune-2", newer);

        await using var late = await InferenceServer.StartAsync(model: null, extra: settings);
        await ServesAsync(late, "fine-tune-2", newer);
    }

    private static async Task ServesAsync(InferenceServer server, string name, string? path = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var models = (await server.Client.ListModelsAsync(new ListModelsRequest())).Models;
            var model = models.FirstOrDefault(m => m.Name == name && m.State == ModelState.Ready && m.IsDefault);
            // Callers see a model's file name, not its server path (Alpaca:Inference:ShowModelPaths is off).
            if (model is not null && (path is null || model.Path == Path.GetFileName(path)))
            {
                return;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"{server.Grpc} does not serve {name} {path}: {string.Join("; ", models.Select(m => $"{m.Name} {m.State} {m.Path} default={m.IsDefault} {m.Error}"))}");
            await Task.Delay(100);
        }
    }
}
