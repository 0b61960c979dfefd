using Alpaca.Generator.Api.Configuration;
using Alpaca.ServiceDefaults.Confinement;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// Where a caller's run may read and write (docs/security.md, Confinement): seed and prompt files only from the
/// data roots (<c>Alpaca:Paths:DataRoots</c>; unset, the output root alone), output folders only under the
/// output root (<c>Alpaca:Generator:OutputRoot</c>; unset, the data folder). Same rules and messages as the
/// trainer's: malformed → INVALID_ARGUMENT, outside → PERMISSION_DENIED without saying whether a file exists.
/// Inline seeds and prompt text need no file at all.
/// </summary>
public sealed class RunPaths
{
    public const string DataRootsSetting = "Alpaca:Paths:DataRoots";
    public const string OutputRootSetting = GeneratorOptions.Section + ":OutputRoot";

    private readonly PathRoots _data;
    private readonly PathRoots _work;

    public RunPaths(GeneratorOptions options, IConfiguration configuration)
    {
        OutputRoot = Path.GetFullPath(string.IsNullOrWhiteSpace(options.OutputRoot) ? options.DataDirectory : options.OutputRoot);
        _work = new PathRoots(OutputRootSetting, [OutputRoot]);
        _data = PathRoots.FromConfiguration(configuration, DataRootsSetting, [OutputRoot]);
    }

    public string OutputRoot { get; }

    /// <summary>A caller's seed_tasks_path or prompt_path, resolved inside the data roots.</summary>
    public string Read(string path, string field) => _data.Resolve(path, field);

    /// <summary>A caller's output_dir, resolved under the output root; the root itself holds every run, so it is no run's folder.</summary>
    public string Output(string path)
    {
        var resolved = _work.Resolve(path, "spec.output_dir");
        if (_work.Roots.Any(root => string.Equals(root, resolved, StringComparison.Ordinal)))
        {
            throw PathConfinementException.Malformed($"spec.output_dir is the output root itself; name a folder under it (or leave it empty for the run's own folder).");
        }

        return resolved;
    }
}
