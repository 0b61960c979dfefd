using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Platform;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Generator.Api.Tests.Security;

/// <summary>
/// Through the gateway with real keys: a caller's own base_url needs the admin scope, and even an admin's is
/// refused while the operator has not allowed custom teachers (the default).
/// </summary>
public sealed class CustomTeacherScopeTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("alpaca-gen-scope");
    private EmbeddedPlatform? _platform;

    public async Task InitializeAsync() => _platform = await EmbeddedPlatform.StartAsync([GeneratorModule.Instance], new EmbeddedPlatformOptions
    {
        GatewayPort = 0,
        GatewayHttpPort = 0,
        StateDirectory = _dir.File("state"),
        ExtraSettings = new Dictionary<string, string?> { ["Alpaca:Generator:DedupMode"] = "inprocess" },
    });

    [Fact]
    public async Task A_custom_base_url_is_refused_for_a_data_key_and_for_an_admin_while_the_operator_does_not_allow_it()
    {
        var dataKey = (await _platform!.Keys!.CreateAsync("data", [ApiScope.Data])).Key;
        var spec = GrpcRunKit.Spec("https://api.example.com/v1", 5, "");

        using (var channel = _platform.GatewayChannel(dataKey))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => new GeneratorService.GeneratorServiceClient(channel).StartRunAsync(new StartRunRequest { Spec = spec }).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Equal("spec.teacher.base_url needs the admin scope; name a configured teacher in spec.teacher.name instead.", e.Status.Detail);
        }

        using (var admin = _platform.GatewayChannel())
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => new GeneratorService.GeneratorServiceClient(admin).StartRunAsync(new StartRunRequest { Spec = spec }).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Contains("Alpaca:Generator:AllowCustomTeachers is off", e.Status.Detail);
        }
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _dir.Dispose();
    }
}
