namespace Alpaca.Messaging;

/// <summary>What a transport does with a delivery (Dapr's SUCCESS / RETRY / DROP).</summary>
public enum DispatchOutcome
{
    /// <summary>Handled (or handled before): acknowledge.</summary>
    Success,

    /// <summary>Failed for now: deliver again later.</summary>
    Retry,

    /// <summary>Can never succeed: acknowledge and dead-letter.</summary>
    Drop,

    /// <summary>Another delivery of this event holds a handler's processing lease (it is still running):
    /// neither acknowledge nor count a failure; that delivery acknowledges when it is done.</summary>
    InProgress,
}
