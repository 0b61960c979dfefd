namespace Alpaca.Inference.Api.Models;

/// <summary>
/// Loads <c>Alpaca:Inference:Model</c> after the host has started, so liveness answers at once and
/// readiness turns true when the model is in (Kubernetes keeps the pod out of the service until then).
/// </summary>
public sealed class StartupModelLoader(InferenceOptions options, ModelRegistry registry, ILogger<StartupModelLoader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(options.Model))
        {
            logger.LogInformation("No start-up model (Alpaca:Inference:Model): not ready until one is loaded");
            return;
        }

        try
        {
            await registry.LoadAsync(new LoadSpec(options.Model, options.ModelName, MakeDefault: true, DraftModel: string.IsNullOrWhiteSpace(options.DraftModel) ? null : options.DraftModel), stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The service stays up (and not ready) so the error is visible in ListModels and the logs.
            logger.LogError(ex, "Loading the start-up model {Path} failed", options.Model);
        }
    }
}
