namespace Alpaca.ServiceDefaults;

/// <summary>
/// Configuration section <c>Alpaca:Limits</c> (environment: <c>Alpaca__Limits__MaxRequestBodySize</c> …): the
/// transport limits every service and the gateway apply before any handler runs. Explicit rather than
/// Kestrel's and gRPC's defaults, so they are written down, the same everywhere and tunable per deployment.
/// </summary>
public sealed class RequestLimitsOptions
{
    public const string Section = "Alpaca:Limits";

    /// <summary>Largest HTTP request body (bytes); a larger one is refused with 413 before it is read.</summary>
    public long MaxRequestBodySize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest total size of a request's headers (bytes); beyond, 431.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>Most headers per request.</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>HTTP/2: most concurrent streams per connection (gRPC calls multiplexed on one connection).</summary>
    public int Http2MaxStreamsPerConnection { get; set; } = 256;

    /// <summary>HTTP/2: largest (HPACK-decompressed) header field, bytes.</summary>
    public int Http2MaxRequestHeaderFieldSize { get; set; } = 16 * 1024;

    /// <summary>HTTP/2: largest frame payload, bytes (16 KiB is the protocol's minimum and Kestrel's default).</summary>
    public int Http2MaxFrameSize { get; set; } = 16 * 1024;

    /// <summary>HTTP/2: HPACK dynamic table size, bytes.</summary>
    public int Http2HeaderTableSize { get; set; } = 4096;

    /// <summary>Largest gRPC message a service accepts (bytes); beyond, RESOURCE_EXHAUSTED before the handler runs.</summary>
    public int GrpcMaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest gRPC message a service sends (bytes).</summary>
    public int GrpcMaxSendMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Refuses nonsensical settings at start-up with the key and the value.</summary>
    public void Validate()
    {
        Positive(nameof(MaxRequestBodySize), MaxRequestBodySize);
        Positive(nameof(MaxRequestHeadersTotalSize), MaxRequestHeadersTotalSize);
        Positive(nameof(MaxRequestHeaderCount), MaxRequestHeaderCount);
        Positive(nameof(Http2MaxStreamsPerConnection), Http2MaxStreamsPerConnection);
        Positive(nameof(Http2MaxRequestHeaderFieldSize), Http2MaxRequestHeaderFieldSize);
        Positive(nameof(GrpcMaxReceiveMessageSize), GrpcMaxReceiveMessageSize);
        Positive(nameof(GrpcMaxSendMessageSize), GrpcMaxSendMessageSize);
        if (Http2MaxFrameSize is < 16 * 1024 or > (16 * 1024 * 1024) - 1)
        {
            throw new InvalidOperationException($"{Section}:{nameof(Http2MaxFrameSize)} = {Http2MaxFrameSize} must be in [16384, 16777215] (RFC 9113).");
        }

        if (Http2HeaderTableSize < 0)
        {
            throw new InvalidOperationException($"{Section}:{nameof(Http2HeaderTableSize)} = {Http2HeaderTableSize} must not be negative.");
        }
    }

    private static void Positive(string key, long value)
    {
        if (value <= 0)
        {
            throw new InvalidOperationException($"{Section}:{key} = {value} must be positive.");
        }
    }
}
