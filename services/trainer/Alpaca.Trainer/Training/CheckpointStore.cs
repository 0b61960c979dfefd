using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Optim;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Training;

/// <summary>
/// Resumable checkpoints under <c>ROOT/checkpoint-STEP/</c> (HF's naming):
/// <c>trainable.safetensors</c> (fp32 master weights of every trained parameter: all of them in a full
/// fine-tune, only the adapters with LoRA), <c>optimizer.safetensors</c> (AdamW moments by parameter
/// name) and <c>trainer_state.json</c>. A checkpoint is written into a hidden temporary folder and
/// renamed into place, so a job killed while saving leaves the previous checkpoint intact.
/// </summary>
public sealed class CheckpointStore(string root, int keep)
{
    public const string TrainableFile = "trainable.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    private const string Prefix = "checkpoint-";

    public string Root { get; } = root;

    public string Save(TrainerState state, IReadOnlyList<TrainableParameter> parameters, AdamW optimizer)
    {
        Directory.CreateDirectory(Root);
        var final = Path.Combine(Root, Prefix + state.GlobalStep);
        var temp = Path.Combine(Root, $".{Prefix}{state.GlobalStep}.tmp-{Environment.ProcessId}");
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        Directory.CreateDirectory(temp);
        TensorBridge.WriteFile(Path.Combine(temp, TrainableFile), parameters.ToDictionary(p => p.Name, p => p.Master));
        TensorBridge.WriteFile(Path.Combine(temp, OptimizerFile), optimizer.StateTensors());
        File.WriteAllText(Path.Combine(temp, StateFile), state.ToJson());
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }

        Directory.Move(temp, final);
        Prune();
        return final;
    }

    /// <summary>The newest complete checkpoint, or null.</summary>
    public string? Latest() => Complete().OrderByDescending(c => c.Step).Select(c => c.Path).FirstOrDefault();

    public static (TrainerState State, Dictionary<string, Tensor> Trainable, Dictionary<string, Tensor> Optimizer) Load(string directory)
    {
        var state = TrainerState.Load(Path.Combine(directory, StateFile));
        var trainable = TensorBridge.Read(Path.Combine(directory, TrainableFile));
        var optimizer = TensorBridge.Read(Path.Combine(directory, OptimizerFile));
        return (state, trainable, optimizer);
    }

    private IEnumerable<(long Step, string Path)> Complete()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        foreach (var dir in Directory.GetDirectories(Root, Prefix + "*"))
        {
            if (long.TryParse(Path.GetFileName(dir).AsSpan(Prefix.Length), out var step) && File.Exists(Path.Combine(dir, StateFile)))
            {
                yield return (step, dir);
            }
        }
    }

    private void Prune()
    {
        foreach (var (_, path) in Complete().OrderByDescending(c => c.Step).Skip(keep).ToList())
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
