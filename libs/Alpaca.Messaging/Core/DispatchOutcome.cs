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
}
