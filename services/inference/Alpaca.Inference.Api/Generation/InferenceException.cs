namespace Alpaca.Inference.Api.Generation;

/// <summary>What went wrong with a request, in terms both gRPC and the OpenAI API can answer precisely.</summary>
public enum InferenceErrorKind
{
    InvalidArgument,
    NotFound,
    FailedPrecondition,
    ResourceExhausted,

    /// <summary>The caller's generated-tokens quota is spent (RESOURCE_EXHAUSTED / 429, like a full queue, with its own code).</summary>
    QuotaExhausted,
}

/// <summary>A refused request. gRPC maps it to the status of the same name; HTTP to 400/404/503/429.</summary>
public sealed class InferenceException(InferenceErrorKind kind, string message, TimeSpan? retryAfter = null, string? param = null) : Exception(message)
{
    public InferenceErrorKind Kind { get; } = kind;

    /// <summary>For ResourceExhausted: when to try again.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The request field at fault (OpenAI's <c>param</c>).</summary>
    public string? Param { get; } = param;

    public static InferenceException Invalid(string message, string? param = null) => new(InferenceErrorKind.InvalidArgument, message, param: param);
}
