namespace Alpaca.Trainer.Api.Jobs;

/// <summary>A job spec that cannot run, with the reason in terms of the request (answered as INVALID_ARGUMENT).</summary>
public sealed class JobSpecException(string message, Exception? inner = null) : Exception(message, inner);
