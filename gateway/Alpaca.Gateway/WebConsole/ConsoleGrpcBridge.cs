using System.Collections.Concurrent;
using System.Text;
using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Auth;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Yarp.ReverseProxy;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Alpaca.Gateway.WebConsole;

/// <summary>
/// The console's data calls: any unary or server-streaming method of the platform's gRPC contracts, with the
/// request and replies in protobuf's JSON mapping (<c>POST /console/api/grpc/alpaca.v1.TrainerService/ListJobs</c>,
/// body <c>{}</c>). A server stream answers as server-sent events, one reply per <c>data:</c> line. The call goes to
/// the service over gRPC exactly as a routed call does — a destination of the route's YARP cluster, with the
/// caller's key and the service credential — so the method's declared scope is checked where it always is, in the
/// service, and there is no second backend: the bridge only changes the encoding.
/// </summary>
internal sealed class ConsoleGrpcBridge(IProxyStateLookup proxy, AuthOptions auth, RequestLimitsOptions limits, PeerTls peerTls) : IDisposable
{
    private static readonly ServiceDescriptor[] Contracts =
        [GeneratorService.Descriptor, DedupService.Descriptor, TrainerService.Descriptor, InferenceService.Descriptor];

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private static readonly Dictionary<string, (string Cluster, MethodDescriptor Method)> Methods = Contracts
        .SelectMany(s => s.Methods)
        .ToDictionary(
            m => $"{m.Service.FullName}/{m.Name}",
            m => (GatewayRoutes.Services.Single(r => r.GrpcService == m.Service.FullName).Name, m),
            StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext http, string service, string method)
    {
        if (!Methods.TryGetValue($"{service}/{method}", out var found))
        {
            await WriteErrorAsync(http, StatusCode.NotFound, $"No method {service}/{method} in the platform's contracts.");
            return;
        }

        var (cluster, descriptor) = found;
        if (descriptor.IsClientStreaming)
        {
            await WriteErrorAsync(http, StatusCode.InvalidArgument, $"{descriptor.FullName} streams requests; the console bridge carries unary and server-streaming calls only.");
            return;
        }

        IMessage request;
        try
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var json = await reader.ReadToEndAsync(http.RequestAborted);
            request = descriptor.InputType.Parser.ParseJson(string.IsNullOrWhiteSpace(json) ? "{}" : json);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            await WriteErrorAsync(http, StatusCode.InvalidArgument, $"The body is not a {descriptor.InputType.FullName} in protobuf JSON: {e.Message}");
            return;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(http, StatusCode.ResourceExhausted, $"The body exceeds the gateway's limit of {limits.MaxRequestBodySize} bytes.");
            return;
        }

        if (Channel(cluster) is not { } channel)
        {
            await WriteErrorAsync(http, StatusCode.Unavailable, $"No destination of the {cluster} service is available.");
            return;
        }

        var headers = new Metadata();
        if (http.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
        {
            headers.Add("authorization", authorization);
        }

        var options = new CallOptions(headers, cancellationToken: http.RequestAborted);
        var invoker = channel.CreateCallInvoker();
        var call = GrpcMethod(descriptor);
        var started = false;
        try
        {
            if (!descriptor.IsServerStreaming)
            {
                var reply = await invoker.AsyncUnaryCall(call, null, options, request);
                http.Response.ContentType = "application/json; charset=utf-8";
                await http.Response.WriteAsync(Formatter.Format(reply), http.RequestAborted);
                return;
            }

            using var stream = invoker.AsyncServerStreamingCall(call, null, options, request);
            await foreach (var reply in stream.ResponseStream.ReadAllAsync(http.RequestAborted))
            {
                if (!started)
                {
                    StartEvents(http);
                    started = true;
                }

                await http.Response.WriteAsync("data: " + Formatter.Format(reply) + "\n\n", http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }

            if (!started)
            {
                StartEvents(http);
            }

            await http.Response.WriteAsync("event: end\ndata: {}\n\n", http.RequestAborted);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !http.RequestAborted.IsCancellationRequested)
        {
            if (started)
            {
                await http.Response.WriteAsync("event: error\ndata: " + ErrorJson(e.StatusCode, e.Status.Detail) + "\n\n", http.RequestAborted);
                return;
            }

            await WriteErrorAsync(http, e.StatusCode, e.Status.Detail);
        }
        catch (RpcException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The page went away (or stopped watching): the call to the service was cancelled with it.
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
    }

    private static void StartEvents(HttpContext http)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
    }

    private static Method<IMessage, IMessage> GrpcMethod(MethodDescriptor method) => new(
        method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary,
        method.Service.FullName,
        method.Name,
        Marshallers.Create<IMessage>(m => m.ToByteArray(), _ => throw new NotSupportedException()),
        Marshallers.Create<IMessage>(_ => throw new NotSupportedException(), b => method.OutputType.Parser.ParseFrom(b)));

    // A destination of the service's cluster, healthy ones first, as YARP would pick for a routed call.
    private GrpcChannel? Channel(string cluster)
    {
        if (!proxy.TryGetCluster(cluster, out var state))
        {
            return null;
        }

        var destinations = state.DestinationsState.AvailableDestinations.Count > 0
            ? state.DestinationsState.AvailableDestinations
            : state.DestinationsState.AllDestinations;
        if (destinations.Count == 0)
        {
            return null;
        }

        var address = destinations[Random.Shared.Next(destinations.Count)].Model.Config.Address;
        return _channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            HttpHandler = new ServiceTokenHandler(auth.ServiceToken, peerTls.CreateHandler()),
            MaxReceiveMessageSize = limits.GrpcMaxReceiveMessageSize,
            MaxSendMessageSize = limits.GrpcMaxSendMessageSize,
        }));
    }

    private static Task WriteErrorAsync(HttpContext http, StatusCode code, string message)
    {
        http.Response.StatusCode = code switch
        {
            StatusCode.InvalidArgument or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
            StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
            StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
            StatusCode.NotFound => StatusCodes.Status404NotFound,
            StatusCode.AlreadyExists or StatusCode.Aborted => StatusCodes.Status409Conflict,
            StatusCode.FailedPrecondition => StatusCodes.Status412PreconditionFailed,
            StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
            StatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
            StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
            StatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
            _ => StatusCodes.Status500InternalServerError,
        };
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsync(ErrorJson(code, message), http.RequestAborted);
    }

    // The gRPC status code by its canonical name (NOT_FOUND), so the page shows what a gRPC client would.
    private static string ErrorJson(StatusCode code, string message) =>
        System.Text.Json.JsonSerializer.Serialize(new { error = new { code = CodeName(code), message } });

    private static string CodeName(StatusCode code) =>
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
