namespace Alpaca.Llm.Chat;

/// <summary>One turn of a conversation as chat templates see it: <c>{"role": ..., "content": ...}</c> (text only).</summary>
public sealed record ChatMessage(string Role, string Content);
