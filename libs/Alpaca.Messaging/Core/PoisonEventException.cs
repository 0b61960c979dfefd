namespace Alpaca.Messaging;

/// <summary>
/// Thrown (by the transport or by a handler) for an event that can never succeed: malformed, of an
/// unknown type, or rejected by the handler for good. The event is dropped to the dead-letter stream
/// instead of being retried. Any other exception means "retry later".
/// </summary>
public sealed class PoisonEventException : Exception
{
    public PoisonEventException(string message)
        : base(message)
    {
    }

    public PoisonEventException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
