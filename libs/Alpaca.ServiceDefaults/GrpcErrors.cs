using Grpc.Core;

namespace Alpaca.ServiceDefaults;

/// <summary>Precise gRPC errors. Nothing answers with made-up data: a missing engine is UNIMPLEMENTED.</summary>
public static class GrpcErrors
{
    public static RpcException Unimplemented(string method, string missing) =>
        new(new Status(StatusCode.Unimplemented, $"{method} is not available yet: {missing}."));

    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));

    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    public static RpcException FailedPrecondition(string message) => new(new Status(StatusCode.FailedPrecondition, message));

    public static RpcException AlreadyExists(string message) => new(new Status(StatusCode.AlreadyExists, message));

    public static RpcException ResourceExhausted(string message, TimeSpan retryAfter)
    {
        // retry-after-ms for our clients; grpc-retry-pushback-ms is what gRPC's own retry policy honours (gRFC A6).
        var ms = ((long)retryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var trailers = new Metadata { { "retry-after-ms", ms }, { "grpc-retry-pushback-ms", ms } };
        return new RpcException(new Status(StatusCode.ResourceExhausted, message), trailers);
    }
}
