using Alpaca.Inference.Api.Generation;

namespace Alpaca.Inference.Api.Models;

/// <summary>
/// Brings this replica to the desired state (<see cref="DesiredModels"/>): on start, every
/// <see cref="InferenceOptions.ReconcileInterval"/>, and at once when a ModelPublished event arrives (a
/// hint; the record is the truth). Each desired model this replica does not yet serve at that version is
/// loaded (a hot swap when the name is served), and the desired default becomes the default. A version
/// that failed to load here is not retried until a new one is published, so a model too large for the
/// budget does not reload every few seconds. Only with <see cref="InferenceOptions.AutoLoadPublished"/>.
/// </summary>
public sealed class ModelReconciler(InferenceOptions options, DesiredModels desired, ModelRegistry registry, ILogger<ModelReconciler> logger) : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, string> _applied = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _failed = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.AutoLoadPublished)
        {
            return;
        }

        await Task.Yield();
        var interval = options.ReconcileInterval > TimeSpan.Zero ? options.ReconcileInterval : TimeSpan.FromSeconds(10);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The state store is unreachable for now; what is served keeps serving.
                logger.LogWarning(e, "Reconciling the desired models failed; retrying in {Interval}", interval);
            }

            try
            {
                await Task.Delay(interval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: loads what is desired and not served here, then sets the default.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var (models, defaultName) = await desired.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        foreach (var model in models.OrderBy(m => m.PublishedAt))
        {
            try
            {
                await ApplyAsync(model, options.AutoDefaultPublished && model.Name == defaultName, cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException)
            {
                // Logged and remembered by ApplyAsync; the other models still reconcile.
            }
        }

        // The newest publication becomes the default only by the operator's policy (AutoDefaultPublished).
        if (defaultName is not null && options.AutoDefaultPublished)
        {
            registry.TrySetDefault(defaultName);
        }
    }

    /// <summary>Loads <paramref name="model"/> unless this replica already serves (or failed) that version; a load failure is rethrown.</summary>
    public async Task ApplyAsync(DesiredModel model, bool makeDefault, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if ((_applied.TryGetValue(model.Name, out var v) && v == model.Version) || (_failed.TryGetValue(model.Name, out var f) && f == model.Version))
            {
                return;
            }

            try
            {
                await CheckDigestAsync(model, cancellationToken).ConfigureAwait(false);
                await registry.LoadAsync(new LoadSpec(model.GgufPath, model.Name, MakeDefault: makeDefault), cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException e)
            {
                _failed[model.Name] = model.Version;
                logger.LogWarning("Desired model {Model} ({Path}) cannot be served here: {Reason}", model.Name, model.GgufPath, e.Message);
                throw;
            }

            _applied[model.Name] = model.Version;
            _failed.Remove(model.Name);
            logger.LogInformation("Serving desired model {Model} ({Path}, published {PublishedAt} by job {JobId})", model.Name, model.GgufPath, model.PublishedAt, model.JobId);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A published model is served only as it was published: the file's SHA-256 must be the one its ModelPublished
    /// carried (the trainer's confirmed export), so a file replaced since (a deposed trainer replica's stale export,
    /// a hand edit) is refused with both digests instead of being served silently.
    /// </summary>
    private static async Task CheckDigestAsync(DesiredModel model, CancellationToken cancellationToken)
    {
        if (model.GgufSha256 is not { Length: > 0 } expected || !File.Exists(model.GgufPath))
        {
            return; // no digest (an older publication), or no file: the load names the missing file
        }

        await using var stream = new FileStream(model.GgufPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        var actual = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new InferenceException(InferenceErrorKind.FailedPrecondition,
                $"Published model '{model.Name}': {model.GgufPath} has SHA-256 {actual}, but job {model.JobId} published {expected.ToLowerInvariant()}; the file is not the published model.");
        }
    }
}
