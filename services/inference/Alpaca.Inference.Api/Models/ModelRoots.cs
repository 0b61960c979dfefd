using Alpaca.ServiceDefaults.Confinement;

namespace Alpaca.Inference.Api.Models;

/// <summary>
/// The folders a caller's <c>LoadModel</c> may load from: <c>Alpaca:Paths:ModelRoots</c> (a list, or one value
/// separated like PATH); unset, the folder of the start-up model (<c>Alpaca:Inference:Model</c>), so
/// <c>alpaca up --model FILE</c> can load its neighbours, and nothing else. The start-up model and published
/// models (<c>ModelPublished</c>) are the operator's and the trainer's paths, not a caller's, so they are not
/// checked here.
/// </summary>
public sealed class ModelRoots(PathRoots roots)
{
    public const string Setting = "Alpaca:Paths:ModelRoots";

    public PathRoots Paths { get; } = roots;

    public static ModelRoots FromConfiguration(IConfiguration configuration, InferenceOptions options) =>
        new(PathRoots.FromConfiguration(configuration, Setting, [string.IsNullOrWhiteSpace(options.Model) ? null : Path.GetDirectoryName(Path.GetFullPath(options.Model))]));
}
