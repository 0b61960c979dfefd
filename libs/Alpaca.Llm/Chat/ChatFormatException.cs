namespace Alpaca.Llm.Chat;

/// <summary>
/// A conversation a chat format cannot render: the template's own <c>raise_exception</c> (the caller sent a
/// conversation the model does not accept, e.g. roles out of order), a render error, or a template that does
/// not parse. The message is meant for the caller.
/// </summary>
public sealed class ChatFormatException(string message, bool raisedByTemplate = false, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>True when the template itself refused the conversation (<c>raise_exception</c>).</summary>
    public bool RaisedByTemplate { get; } = raisedByTemplate;
}
