using System.ClientModel;
using System.Net;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Gateway;
using Alpaca.Platform.Tests.Platform;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// Identity and scopes over real sockets: every platform host with authentication on (the default), keys made in
/// its store, every gRPC method of the contracts called through the gateway without a key, with a key of another
/// scope and with the right one.
/// </summary>
public sealed class AuthTests : IAsyncLifetime
{
    private static readonly ServiceDescriptor[] Services =
        [InferenceService.Descriptor, DedupService.Descriptor, GeneratorService.Descriptor, TrainerService.Descriptor];

    private readonly TempDir _dir = new();
    private EmbeddedPlatform? _platform;
    private readonly Dictionary<string, string> _keys = [];

    private EmbeddedPlatform Platform => _platform!;

    public async Task InitializeAsync()
    {
        _platform = await EmbeddedPlatform.StartAsync(EveryService.Modules, new EmbeddedPlatformOptions { GatewayPort = 0, GatewayHttpPort = 0, StateDirectory = _dir.Path });
        foreach (var scope in new[] { ApiScope.Inference, ApiScope.Data, ApiScope.Training })
        {
            _keys[scope.Name()] = (await Platform.Keys!.CreateAsync(scope.Name(), [scope])).Key;
        }

        _keys["all-but-admin"] = (await Platform.Keys!.CreateAsync("all-but-admin", [ApiScope.Inference, ApiScope.Data, ApiScope.Training])).Key;
    }

    [Fact]
    public void Every_grpc_method_and_http_endpoint_declares_its_scope_or_is_anonymous()
    {
        var declared = new Dictionary<string, string>();
        foreach (var module in EveryService.Modules.Select(m => m.Name).Append(GatewayModule.Name))
        {
            foreach (var endpoint in Platform.App(module).Services.GetRequiredService<EndpointDataSource>().Endpoints)
            {
                var policy = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault();
                if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc)
                {
                    if (policy is not null)
                    {
                        declared[grpc.Method.FullName] = policy;
                    }

                    continue;
                }

                // An HTTP route: anonymous (health), or a declared policy. gRPC's catch-all for unknown methods is
                // left to the admin-only fallback; YARP's routes carry their policy from the route configuration.
                if (endpoint.DisplayName?.Contains("Unimplemented", StringComparison.Ordinal) == true)
                {
                    continue;
                }

                Assert.True(
                    endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null || policy is not null,
                    $"{module}: {endpoint.DisplayName} declares no scope");
            }
        }

        foreach (var method in Services.SelectMany(s => s.Methods))
        {
            var path = $"/{method.Service.FullName}/{method.Name}";
            Assert.True(declared.TryGetValue(path, out var policy), $"{path} declares no scope");
            Assert.StartsWith("alpaca:scope:", policy);
        }
    }

    [Fact]
    public async Task Every_grpc_method_through_the_gateway_needs_a_key_of_its_scope()
    {
        var scopes = Scopes();
        using var none = Platform.GatewayChannel(key: "");
        foreach (var method in Services.SelectMany(s => s.Methods))
        {
            var scope = scopes[$"/{method.Service.FullName}/{method.Name}"];
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(none, method));
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(Platform.GatewayChannel("alp_0123456789abcdef_" + new string('x', 43)), method));

            var wrong = scope switch
            {
                ApiScope.Admin => _keys["all-but-admin"],
                ApiScope.Inference => _keys["data"],
                _ => _keys["inference"],
            };
            using (var channel = Platform.GatewayChannel(wrong))
            {
                Assert.Equal(StatusCode.PermissionDenied, await CallAsync(channel, method));
            }

            using (var channel = Platform.GatewayChannel(scope == ApiScope.Admin ? Platform.AdminKey : _keys[scope.Name()]))
            {
                var code = await CallAsync(channel, method);
                Assert.True(code is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unimplemented), $"{method.FullName} with a {scope} key: {code}");
            }
        }
    }

    [Fact]
    public async Task The_openai_routes_answer_401_and_403_in_the_openai_error_shape()
    {
        using var none = Platform.GatewayHttpClient(key: "");
        using var unauthorized = await none.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("invalid_api_key", Error(await unauthorized.Content.ReadAsStringAsync()).GetProperty("code").GetString());

        using var data = Platform.GatewayHttpClient(_keys["data"]);
        using var forbidden = await data.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("insufficient_scope", Error(await forbidden.Content.ReadAsStringAsync()).GetProperty("code").GetString());

        using var inference = Platform.GatewayHttpClient(_keys["inference"]);
        Assert.Equal(HttpStatusCode.OK, (await inference.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task The_openai_sdk_works_with_a_key_and_is_refused_without_a_valid_one()
    {
        OpenAIClient Client(string key) => new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Platform.GatewayHttp, "/v1") });
        var models = await Client(_keys["inference"]).GetOpenAIModelClient().GetModelsAsync();
        Assert.NotNull(models.Value);
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client("alp_not-a-key").GetOpenAIModelClient().GetModelsAsync());
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once()
    {
        var (record, key) = await Platform.Keys!.CreateAsync("short-lived", [ApiScope.Data]);
        using var channel = Platform.GatewayChannel(key);
        var dedup = new DedupService.DedupServiceClient(channel);
        await dedup.ListNamespacesAsync(new ListNamespacesRequest());
        Assert.True(await Platform.Keys.RevokeAsync(record.Id));
        var e = await Assert.ThrowsAsync<RpcException>(() => dedup.ListNamespacesAsync(new ListNamespacesRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        var listed = Assert.Single(await Platform.Keys.ListAsync(), k => k.Id == record.Id);
        Assert.NotNull(listed.RevokedAt);
        Assert.NotNull(listed.LastUsedAt);
        Assert.DoesNotContain(key, JsonSerializer.Serialize(listed), StringComparison.Ordinal); // only the hash is kept
    }

    [Fact]
    public async Task A_direct_call_to_a_service_without_the_service_credential_is_refused_even_with_an_admin_key()
    {
        foreach (var (name, (grpc, http)) in Platform.Services)
        {
            using var channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { HttpHandler = new BearerKeyHandler(Platform.AdminKey) });
            var method = Services.Single(s => s.FullName.EndsWith(char.ToUpperInvariant(name[0]) + name[1..] + "Service", StringComparison.Ordinal)).Methods[0];
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(channel, method));

            // With the credential (as the gateway sends it) and the key, it is served.
            using var trusted = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { HttpHandler = new ServiceTokenHandler(Platform.ServiceToken, new BearerKeyHandler(Platform.AdminKey)) });
            Assert.NotEqual(StatusCode.Unauthenticated, await CallAsync(trusted, method));

            // Health needs neither, so probes work.
            using var probe = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(new Uri(http, "/healthz"))).StatusCode);
        }
    }

    [Fact]
    public async Task Health_answers_without_a_key_and_reflection_needs_admin()
    {
        using var none = Platform.GatewayChannel(key: "");
        var health = new Grpc.Health.V1.Health.HealthClient(none);
        var reply = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), new Metadata { { GatewayRoutes.ServiceHeader, "dedup" } });
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
        using var http = Platform.GatewayHttpClient(key: "");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);

        using var data = Platform.GatewayChannel(_keys["data"]);
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(data);
        using var call = reflection.ServerReflectionInfo(new Metadata { { GatewayRoutes.ServiceHeader, "dedup" } });
        // The refusal may arrive while the request is still being written, or on the first read.
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    private Dictionary<string, ApiScope> Scopes()
    {
        var scopes = new Dictionary<string, ApiScope>();
        foreach (var module in EveryService.Modules)
        {
            foreach (var endpoint in Platform.App(module.Name).Services.GetRequiredService<EndpointDataSource>().Endpoints)
            {
                if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc && endpoint.Metadata.GetMetadata<IAuthorizeData>()?.Policy is { } policy)
                {
                    scopes[grpc.Method.FullName] = ApiScopes.All.Single(s => s.PolicyName() == policy);
                }
            }
        }

        return scopes;
    }

    // Any method, with an empty request message: the status says whether authentication and the scope let it through.
    private static async Task<StatusCode> CallAsync(GrpcChannel channel, MethodDescriptor method)
    {
        var marshaller = Marshallers.Create<byte[]>(b => b, b => b);
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var grpcMethod = new Method<byte[], byte[]>(type, method.Service.FullName, method.Name, marshaller, marshaller);
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5));
        var invoker = channel.CreateCallInvoker();
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(grpcMethod, null, options, []);
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(grpcMethod, null, options, []))
                    {
                        await call.ResponseStream.MoveNext();
                    }

                    break;
                default:
                    using (var call = invoker.AsyncDuplexStreamingCall(grpcMethod, null, options))
                    {
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseStream.MoveNext();
                    }

                    break;
            }

            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private static JsonElement Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error");

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _dir.Dispose();
    }
}
