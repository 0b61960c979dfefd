using Grpc.Core;

namespace Alpaca.ServiceDefaults.Confinement;

/// <summary>
/// A caller's path refused by <see cref="PathRoots"/>: malformed (INVALID_ARGUMENT) or outside every root
/// (PERMISSION_DENIED). The message names the request field and the setting, never server paths.
/// </summary>
public sealed class PathConfinementException : Exception
{
    private PathConfinementException(bool outsideRoots, string message)
        : base(message)
    {
        OutsideRoots = outsideRoots;
    }

    /// <summary>True: well-formed but outside the roots; false: malformed.</summary>
    public bool OutsideRoots { get; }

    public static PathConfinementException Malformed(string message) => new(false, message);

    public static PathConfinementException Outside(string message) => new(true, message);

    /// <summary>The gRPC error the caller gets.</summary>
    public RpcException ToRpc() => new(new Status(OutsideRoots ? StatusCode.PermissionDenied : StatusCode.InvalidArgument, Message));
}
