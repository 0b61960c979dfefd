using System.Diagnostics;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.Messaging;
using Alpaca.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Inference.Api.Tests.Models;

/// <summary>
/// Two inference replicas on one Redis (Redis Streams, one consumer group, Redis state): a ModelPublished
/// event reaches one of them, yet both end up serving the new model as the default, through the desired-state
/// record; a replica started after the publication serves it too. A publication whose file is no longer the one
/// published (its SHA-256 differs from the event's) is refused, not served.
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

        var published = new ModelPublished { ModelName = "fine-tune-2", GgufPath = TestModels.Tiny(), JobId = "job-2", PublishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow), GgufSha256 = Sha256(TestModels.Tiny()) };
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

    [Fact]
    public async Task A_published_model_whose_file_is_not_the_published_one_is_refused_with_both_digests()
    {
        await using var server = await InferenceServer.StartAsync(model: null, extra: Shared($"digest-{Guid.NewGuid():N}:"));
        var reconciler = server.Services.GetRequiredService<ModelReconciler>();
        var file = TestModels.Tiny();
        var other = Sha256(TestModels.Tiny(seed: 5)); // the digest of another model: as if the file had been replaced since

        var refused = await Assert.ThrowsAsync<InferenceException>(() =>
            reconciler.ApplyAsync(new DesiredModel("stale-1", file, "job-9", DateTimeOffset.UtcNow) { GgufSha256 = other }, makeDefault: false, CancellationToken.None));
        Assert.Equal(InferenceErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains($"has SHA-256 {Sha256(file)}, but job job-9 published {other}", refused.Message);
        Assert.DoesNotContain((await server.Client.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "stale-1");

        // The same file with its own digest is served.
        await reconciler.ApplyAsync(new DesiredModel("fresh-1", file, "job-10", DateTimeOffset.UtcNow) { GgufSha256 = Sha256(file) }, makeDefault: false, CancellationToken.None);
        Assert.Contains((await server.Client.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == "fresh-1" && m.State == ModelState.Ready);
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

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
