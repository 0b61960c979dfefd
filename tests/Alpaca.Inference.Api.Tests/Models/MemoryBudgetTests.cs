using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Models;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Inference.Api.Tests.Models;

/// <summary>A model whose weights and full KV cache exceed the memory budget is refused at load, with the numbers.</summary>
public sealed class MemoryBudgetTests
{
    [Fact]
    public async Task A_model_over_the_configured_budget_is_refused_with_failed_precondition_naming_the_numbers()
    {
        var path = TestModels.Tiny();
        var need = MemoryBudget.Estimate(path, contextLength: 0, slots: 4);
        Assert.True(need.KvCacheBytes > 0 && need.WeightBytes > 0);
        var budget = need.TotalBytes - 1; // one byte short

        await using var server = await InferenceServer.StartAsync(model: null, maxSequences: 4,
            extra: new Dictionary<string, string?> { ["Alpaca:Inference:MemoryBudgetBytes"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var e = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = path, Name = "big" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains($"memory budget of {budget:N0} B", e.Status.Detail);
        Assert.Contains("Alpaca:Inference:MemoryBudgetBytes", e.Status.Detail);
        Assert.Contains($"KV cache {need.KvCacheBytes:N0} B", e.Status.Detail);
        Assert.Contains($"{need.Layers} layers", e.Status.Detail);
        Assert.Contains("4 slots", e.Status.Detail);
        Assert.False(server.Registry.IsReady);
        var listed = (await server.Client.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "big");
        Assert.Equal(ModelState.Failed, listed.State);

        // Fewer slots fit: the KV cache is the part that scales with load, so a smaller one loads.
        var fits = await server.Client.LoadModelAsync(new LoadModelRequest { Path = path, Name = "short", ContextLength = 64 });
        Assert.Equal("short", fits.Info.Name);
        // And the budget counts what is loaded: a second copy no longer fits beside the first.
        var second = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = path, Name = "again" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, second.StatusCode);
        Assert.Contains("held by loaded models", second.Status.Detail);
    }

    [Fact]
    public void The_cgroup_limit_is_read_from_v2_then_v1_and_max_means_none()
    {
        using var dir = new TempDir("cgroup");
        Assert.Null(MemoryBudget.CgroupLimit(dir.Path));

        File.WriteAllText(Path.Combine(dir.Path, "memory.max"), "max\n");
        Assert.Null(MemoryBudget.CgroupLimit(dir.Path));
        File.WriteAllText(Path.Combine(dir.Path, "memory.max"), "536870912\n");
        Assert.Equal(536870912L, MemoryBudget.CgroupLimit(dir.Path));
        Assert.Equal(1000L, MemoryBudget.Resolve(1000, dir.Path)); // a configured budget wins

        File.Delete(Path.Combine(dir.Path, "memory.max"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "memory"));
        File.WriteAllText(Path.Combine(dir.Path, "memory", "memory.limit_in_bytes"), "9223372036854771712\n"); // v1's "unlimited"
        Assert.Null(MemoryBudget.CgroupLimit(dir.Path));
        File.WriteAllText(Path.Combine(dir.Path, "memory", "memory.limit_in_bytes"), "268435456\n");
        Assert.Equal(268435456L, MemoryBudget.Resolve(0, dir.Path));
    }
}
