using Alpaca.ServiceDefaults.Confinement;
using Alpaca.Trainer.Api.Configuration;
using Microsoft.Extensions.Options;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// Where a caller's job may read and write. Data sets and base-model folders are read only from the data roots
/// (<c>Alpaca:Paths:DataRoots</c>; unset, the work root alone, so a job can fine-tune an earlier job's output);
/// outputs are written only under the work root (<c>Alpaca:Trainer:OutputRoot</c>). A data set named by
/// <c>dataset_id</c> is the path the generator published, not a caller's, so it is not checked here.
/// </summary>
public sealed class JobPaths
{
    public const string DataRootsSetting = "Alpaca:Paths:DataRoots";

    private readonly PathRoots _data;
    private readonly PathRoots _work;

    public JobPaths(IOptions<TrainerOptions> options, IConfiguration configuration)
    {
        WorkRoot = options.Value.ResolveOutputRoot(
            string.Equals(configuration["Alpaca:State:Store"] ?? "local", "local", StringComparison.OrdinalIgnoreCase)
                ? configuration["Alpaca:State:Path"] ?? Path.Combine(".alpaca", "state")
                : null);
        _work = new PathRoots(TrainerOptions.Section + ":OutputRoot", [WorkRoot]);
        _data = PathRoots.FromConfiguration(configuration, DataRootsSetting, [WorkRoot]);
    }

    /// <summary>Where jobs write: each job under <c>&lt;job id&gt;/</c>, or the output_dir a caller names under it.</summary>
    public string WorkRoot { get; }

    /// <summary>A caller's dataset_path or base_model_path, resolved inside the data roots.</summary>
    public string Read(string path, string field) => _data.Resolve(path, field);

    /// <summary>A caller's output_dir, resolved inside the work root; the root itself is every job's, so not one job's output.</summary>
    public string Output(string path)
    {
        var resolved = _work.Resolve(path, "spec.output_dir");
        if (_work.Roots.Any(root => string.Equals(root, resolved, StringComparison.Ordinal)))
        {
            throw PathConfinementException.Malformed("spec.output_dir is the work root itself; name a folder under it (or leave it empty for <work root>/<job id>).");
        }

        return resolved;
    }
}
