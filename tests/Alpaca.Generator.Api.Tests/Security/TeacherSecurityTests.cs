using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Generator.Teacher;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using Grpc.Core;

namespace Alpaca.Generator.Api.Tests.Security;

/// <summary>
/// Teachers by name and the outbound address check, against a real service over gRPC and the OpenAI teacher
/// double on 127.0.0.1 (the wire protocol). Custom teachers are allowed here (the caller is admin: auth is off
/// for this single service) but private addresses are not, except for the one named teacher that allows them.
/// </summary>
public sealed class TeacherSecurityTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("alpaca-gen-teachers");
    private readonly string _keyVariable = "ALPACA_TEST_TEACHER_KEY_" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _key = "sk-config-" + Guid.NewGuid().ToString("N");
    private TeacherServer? _teacher;
    private GeneratorHost? _host;

    public async Task InitializeAsync()
    {
        _teacher = new TeacherServer(new ReplyPlan(seed: 3, target: 10, batch: 5));
        Environment.SetEnvironmentVariable(_keyVariable, _key);
        _host = await GeneratorHost.StartAsync(_dir.File("state"), new Dictionary<string, string?>
        {
            ["Alpaca:Generator:AllowCustomTeachers"] = "true",
            ["Alpaca:Generator:AllowPrivateTeacherAddresses"] = "false",
            ["Alpaca:Generator:Teachers:local:BaseUrl"] = _teacher.BaseUrl,
            ["Alpaca:Generator:Teachers:local:Model"] = "loopback-teacher",
            ["Alpaca:Generator:Teachers:local:ApiKeyEnv"] = _keyVariable,
            ["Alpaca:Generator:Teachers:local:AllowPrivateAddresses"] = "true",
            ["Alpaca:Generator:Teachers:metadata:BaseUrl"] = "http://169.254.169.254/v1",
            ["Alpaca:Generator:Teachers:metadata:Model"] = "m",
            ["Alpaca:Generator:Teachers:internal:BaseUrl"] = "http://localhost:9/v1",
            ["Alpaca:Generator:Teachers:internal:Model"] = "m",
        });
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("http://127.0.0.1:9/v1", "loopback")]
    [InlineData("http://localhost:9/v1", "loopback")] // a hostname that resolves to a private address
    [InlineData("http://[::1]:9/v1", "loopback")]
    [InlineData("http://10.1.2.3/v1", "private")]
    [InlineData("http://192.168.0.1/v1", "private")]
    [InlineData("http://[fe80::1]/v1", "link-local")]
    [InlineData("http://0.0.0.0:9/v1", "unspecified")]
    public async Task A_custom_teacher_on_a_private_address_is_refused_before_the_run_starts(string url, string kind)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Start(Custom(url)));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains($"resolves to a {kind} address", e.Status.Detail);
        Assert.Empty((await _host!.Client.ListRunsAsync(new ListRunsRequest())).Runs);
    }

    [Theory]
    [InlineData("metadata", "link-local")]
    [InlineData("internal", "loopback")]
    public async Task A_named_teacher_on_a_private_address_is_refused_unless_it_is_allowed(string name, string kind)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Start(Named(name)));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains($"resolves to a {kind} address", e.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_teacher_or_a_caller_chosen_key_source_is_a_clear_error()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Start(Named("nope")));
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
        Assert.Equal("spec.teacher.name 'nope' is not a configured teacher (configured: internal, local, metadata).", unknown.Status.Detail);

        var env = Named("local");
        env.Teacher.ApiKeyEnv = "HOME";
        var file = Custom(_teacher!.BaseUrl);
        file.Teacher.ApiKeyFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        foreach (var spec in new[] { env, file })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => Start(spec));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.StartsWith("spec.teacher.api_key_env and api_key_file are not accepted", e.Status.Detail);
        }

        var none = Named("");
        var missing = await Assert.ThrowsAsync<RpcException>(() => Start(none));
        Assert.StartsWith("spec.teacher.name is required", missing.Status.Detail);
        var limit = Named("local");
        limit.Teacher.Concurrency = 33;
        Assert.Equal("spec.teacher.concurrency = 33 exceeds this server's limit of 32.", (await Assert.ThrowsAsync<RpcException>(() => Start(limit))).Status.Detail);
        Assert.Equal(0, _teacher.Requests);
    }

    [Fact]
    public async Task The_key_a_named_teacher_receives_comes_from_its_configuration_only()
    {
        var run = (await _host!.Client.StartRunAsync(new StartRunRequest { RunId = "named", Spec = Named("local") })).Run;
        var end = (await GrpcRunKit.WatchToEndAsync(_host.Client, run.Id, TimeSpan.FromSeconds(30)))[^1];

        Assert.True(end.State == RunState.Succeeded, $"{end.State}: {end.Error}");
        Assert.Equal(5, end.Progress.Kept);
        Assert.NotEmpty(_teacher!.Authorizations);
        Assert.All(_teacher.Authorizations, a => Assert.Equal("Bearer " + _key, a));
    }

    [Fact]
    public async Task The_connect_callback_refuses_a_loopback_teacher_even_when_nothing_checked_it_before()
    {
        // What a DNS answer that changes after StartRun's check would meet: the check where the socket opens.
        foreach (var url in new[] { _teacher!.BaseUrl, _teacher.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) })
        {
            using var client = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(url), Model = "m", Outbound = new OutboundAddressPolicy(AllowPrivate: false), Retry = new RetryPolicy { MaxRetries = 3 } });
            var e = await Assert.ThrowsAsync<TeacherRejectedException>(() => client.CompleteAsync(["p"], new TeacherSampling(), CancellationToken.None));
            Assert.Contains("resolves to a loopback address", e.Message);
        }

        Assert.Equal(0, _teacher.Requests);
        using var allowed = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(_teacher.BaseUrl), Model = "m", Outbound = new OutboundAddressPolicy(AllowPrivate: true), MaxResponseBytes = 64 * 1024 });
        Assert.Single((await allowed.CompleteAsync(["p"], new TeacherSampling(), CancellationToken.None)).Completions);
    }

    [Fact]
    public async Task A_reply_larger_than_the_cap_is_not_read()
    {
        using var client = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(_teacher!.BaseUrl), Model = "m", Outbound = new OutboundAddressPolicy(AllowPrivate: true), MaxResponseBytes = 64, Retry = new RetryPolicy { MaxRetries = 0 } });
        var e = await Assert.ThrowsAsync<TeacherUnavailableException>(() => client.CompleteAsync(["p"], new TeacherSampling(), CancellationToken.None));
        Assert.Contains("buffer", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static RunSpec Named(string name)
    {
        var spec = GrpcRunKit.Spec("", 5, "");
        spec.Teacher.Name = name;
        spec.Teacher.Model = "";
        return spec;
    }

    private static RunSpec Custom(string url) => GrpcRunKit.Spec(url, 5, "");

    private Task Start(RunSpec spec) => _host!.Client.StartRunAsync(new StartRunRequest { Spec = spec }).ResponseAsync;

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_keyVariable, null);
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_teacher is not null)
        {
            await _teacher.DisposeAsync();
        }

        _dir.Dispose();
    }
}
