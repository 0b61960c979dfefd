using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.Messaging.Dapr;
using Alpaca.State;
using Alpaca.TestSupport;
using Dapr.Client;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using DaprProto = Dapr.Client.Autogen.Grpc.v1;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>
/// The Dapr transport tested the way Dapr's own SDK tests it: CloudEvents POSTed over real HTTP to the
/// Kestrel app exactly as the sidecar would, <c>/dapr/subscribe</c> read back, and the publisher talking
/// to a loopback gRPC server that implements the sidecar's <c>PublishEvent</c> on Dapr's wire protocol.
/// </summary>
public sealed class DaprTransportTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly Probe _probe = new();
    private WebApplication? _app;
    private HttpClient _http = new();

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1));
        builder.Configuration["Alpaca:Messaging:Transport"] = "dapr";
        builder.Services.AddSingleton(_probe);
        builder.Services.AddSingleton<IStateStore>(new LocalFolderStateStore(_dir.Path));
        builder.AddEventBus("trainer");
        builder.Services.AddEventHandler<DatasetPublished, ProbeHandler>();
        _app = builder.Build();
        _app.MapEventSubscriptions();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    [Fact]
    public async Task Dapr_subscribe_lists_each_topic_with_its_route_and_dead_letter_topic()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/dapr/subscribe"));
        var sub = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal("pubsub", sub.GetProperty("pubsubName").GetString());
        Assert.Equal(EventTopics.DatasetPublished, sub.GetProperty("topic").GetString());
        // Dapr.AspNetCore reports routes without the leading slash; the sidecar POSTs to "/" + route.
        Assert.Equal(DaprSubscriptionEndpoints.RoutePrefix.TrimStart('/') + EventTopics.DatasetPublished, sub.GetProperty("route").GetString());
        Assert.Equal(EventTopics.DatasetPublished + ".deadletter", sub.GetProperty("deadLetterTopic").GetString());
    }

    [Fact]
    public async Task CloudEvents_get_SUCCESS_RETRY_and_DROP_as_the_handler_decides()
    {
        var route = DaprSubscriptionEndpoints.RoutePrefix + EventTopics.DatasetPublished;
        Assert.Equal("SUCCESS", await PostAsync(route, CloudEvent("e1", "run-ok")));
        Assert.Single(_probe.Handled, h => h.RunId == "run-ok");

        // The sidecar redelivers the same id: acknowledged without handling twice.
        Assert.Equal("SUCCESS", await PostAsync(route, CloudEvent("e1", "run-ok")));
        Assert.Single(_probe.Handled, h => h.RunId == "run-ok");

        _probe.Behaviour = _ => throw new InvalidOperationException("database down");
        Assert.Equal("RETRY", await PostAsync(route, CloudEvent("e2", "run-retry")));

        _probe.Behaviour = _ => throw new PoisonEventException("never valid");
        Assert.Equal("DROP", await PostAsync(route, CloudEvent("e3", "run-drop")));

        _probe.Behaviour = _ => Task.CompletedTask;
        Assert.Equal("DROP", await PostAsync(route, "{\"specversion\":\"1.0\",\"id\":\"e4\"}"));
        Assert.Equal("DROP", await PostAsync(route, "not json"));
        Assert.Equal("SUCCESS", await PostAsync(route, CloudEvent("e2", "run-retry")));
        Assert.Contains(_probe.Handled, h => h.RunId == "run-retry");
    }

    [Fact]
    public async Task The_publisher_sends_a_structured_CloudEvent_through_the_sidecar_PublishEvent_call()
    {
        var sidecarPort = FreePort.Next();
        var sidecar = new FakeSidecar();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, sidecarPort, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sidecar);
        builder.Services.AddSingleton<IServiceMethodProvider<FakeSidecar>, FakeSidecarMethods>();
        await using var app = builder.Build();
        app.MapGrpcService<FakeSidecar>();
        await app.StartAsync();

        using var dapr = new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{sidecarPort}").Build();
        var bus = new DaprEventBus(dapr, new MessagingOptions { AppId = "generator" });
        var sent = await bus.PublishAsync(new DatasetPublished { DatasetId = "ds-1", RunId = "run-1", RecordCount = 52002 });

        var request = Assert.Single(sidecar.Requests);
        Assert.Equal("pubsub", request.PubsubName);
        Assert.Equal(EventTopics.DatasetPublished, request.Topic);
        Assert.Equal("application/cloudevents+json", request.DataContentType);
        var envelope = EventEnvelope.Parse(request.Data.Span);
        Assert.Equal(sent.Id, envelope.Id);
        Assert.Equal("generator", envelope.Source);
        Assert.Equal("alpaca.v1.DatasetPublished", envelope.Type);
        Assert.Equal(52002, EventSerializer.Unwrap<DatasetPublished>(envelope).RecordCount);
        await app.StopAsync();
    }

    private async Task<string> PostAsync(string route, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/cloudevents+json");
        using var response = await _http.PostAsync(route, content);
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString()!;
    }

    private static string CloudEvent(string id, string runId) => JsonSerializer.Serialize(new
    {
        specversion = "1.0",
        id,
        source = "generator",
        type = "alpaca.v1.DatasetPublished",
        topic = EventTopics.DatasetPublished,
        pubsubname = "pubsub",
        datacontenttype = "application/json",
        traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        data = new { datasetId = "ds-" + runId, runId, recordCount = "3" },
    });

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _http.Dispose();
        _dir.Dispose();
    }

    /// <summary>The sidecar's <c>dapr.proto.runtime.v1.Dapr/PublishEvent</c>, recording requests.</summary>
    public sealed class FakeSidecar
    {
        public List<DaprProto.PublishEventRequest> Requests { get; } = [];

        public Task<Empty> PublishEvent(DaprProto.PublishEventRequest request, ServerCallContext context)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }

            return Task.FromResult(new Empty());
        }
    }

    /// <summary>Binds the one method on the real service and method names (the package ships only client stubs).</summary>
    public sealed class FakeSidecarMethods : IServiceMethodProvider<FakeSidecar>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FakeSidecar> context)
        {
            var method = new Method<DaprProto.PublishEventRequest, Empty>(
                MethodType.Unary,
                "dapr.proto.runtime.v1.Dapr",
                "PublishEvent",
                Marshallers.Create(r => Google.Protobuf.MessageExtensions.ToByteArray(r), DaprProto.PublishEventRequest.Parser.ParseFrom),
                Marshallers.Create(r => Google.Protobuf.MessageExtensions.ToByteArray(r), Empty.Parser.ParseFrom));
            context.AddUnaryMethod(method, [], (service, request, callContext) => service.PublishEvent(request, callContext));
        }
    }
}
