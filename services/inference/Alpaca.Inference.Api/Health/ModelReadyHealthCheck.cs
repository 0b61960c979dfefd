using Alpaca.Inference.Api.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Alpaca.Inference.Api.Health;

/// <summary>Readiness: the service can serve once at least one model is loaded (gRPC health, <c>/readyz</c>).</summary>
public sealed class ModelReadyHealthCheck(ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(registry.IsReady
            ? HealthCheckResult.Healthy("a model is loaded")
            : HealthCheckResult.Unhealthy("no model is loaded (load one with LoadModel or Alpaca:Inference:Model)"));
}
