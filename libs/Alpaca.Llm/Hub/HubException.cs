namespace Alpaca.Llm.Hub;

/// <summary>A pull failed for a reason the user can act on; the message says which and what to do.</summary>
public sealed class HubException(string message, int? statusCode = null) : Exception(message)
{
    public int? StatusCode { get; } = statusCode;
}
