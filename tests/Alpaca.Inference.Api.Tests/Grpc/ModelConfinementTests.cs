using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Inference.Api.Tests.Grpc;

/// <summary>LoadModel loads only from the model roots, and callers see model names, not server folders.</summary>
public sealed class ModelConfinementTests : IDisposable
{
    private readonly TempDir _root = new("alpaca-model-root");
    private readonly TempDir _outside = new("alpaca-model-outside");

    public void Dispose()
    {
        _root.Dispose();
        _outside.Dispose();
    }

    private Task<InferenceServer> StartAsync(bool showPaths = false) => InferenceServer.StartAsync(model: null, extra: new Dictionary<string, string?>
    {
        ["Alpaca:Paths:ModelRoots"] = _root.Path,
        ["Alpaca:Inference:ShowModelPaths"] = showPaths ? "true" : "false",
    });

    private static async Task<RpcException> RefusedAsync(InferenceServer server, string path) =>
        await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = path, Name = "x" }).ResponseAsync);

    [Fact]
    public async Task Paths_outside_the_model_roots_are_denied_without_saying_whether_the_file_exists()
    {
        await using var server = await StartAsync();
        File.Copy(TestModels.Tiny(), _outside.File("real.gguf"));

        var existing = await RefusedAsync(server, _outside.File("real.gguf"));
        var missing = await RefusedAsync(server, _outside.File("missing.gguf"));
        Assert.Equal(StatusCode.PermissionDenied, existing.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, missing.StatusCode);
        Assert.Equal(existing.Status.Detail, missing.Status.Detail);
        Assert.DoesNotContain(_outside.Path, existing.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(StatusCode.InvalidArgument, (await RefusedAsync(server, Path.Combine(_root.Path, "..", Path.GetFileName(_outside.Path), "real.gguf"))).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, (await RefusedAsync(server, "../real.gguf")).StatusCode);

        // Nothing was loaded or even recorded as failed.
        Assert.Empty((await server.Client.ListModelsAsync(new ListModelsRequest())).Models);
    }

    [Fact]
    public async Task A_symlink_in_the_root_that_leads_outside_is_denied_and_one_that_stays_inside_loads()
    {
        await using var server = await StartAsync();
        File.Copy(TestModels.Tiny(), _outside.File("real.gguf"));
        File.CreateSymbolicLink(_root.File("escape.gguf"), _outside.File("real.gguf"));
        Directory.CreateSymbolicLink(_root.File("elsewhere"), _outside.Path);
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(server, _root.File("escape.gguf"))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await RefusedAsync(server, "elsewhere/real.gguf")).StatusCode);

        File.Copy(TestModels.Tiny(), _root.File("tiny.gguf"));
        File.CreateSymbolicLink(_root.File("current.gguf"), "tiny.gguf");
        var loaded = await server.Client.LoadModelAsync(new LoadModelRequest { Path = "current.gguf", Name = "current" });
        Assert.Equal(ModelState.Ready, loaded.Info.State);
        Assert.Equal("tiny.gguf", loaded.Info.Path); // the resolved file, by name only
    }

    [Fact]
    public async Task Callers_see_file_names_unless_the_operator_shows_paths()
    {
        File.Copy(TestModels.Tiny(), _root.File("tiny.gguf"));
        await using (var server = await StartAsync())
        {
            await server.Client.LoadModelAsync(new LoadModelRequest { Path = _root.File("tiny.gguf"), Name = "tiny" });
            Assert.Equal("tiny.gguf", Assert.Single((await server.Client.ListModelsAsync(new ListModelsRequest())).Models).Path);
            Assert.Equal("tiny.gguf", (await server.Client.GetModelInfoAsync(new GetModelInfoRequest { Model = "tiny" })).Info.Path);
        }

        await using (var server = await StartAsync(showPaths: true))
        {
            await server.Client.LoadModelAsync(new LoadModelRequest { Path = _root.File("tiny.gguf"), Name = "tiny" });
            Assert.Equal(_root.File("tiny.gguf"), Assert.Single((await server.Client.ListModelsAsync(new ListModelsRequest())).Models).Path);
        }
    }
}
