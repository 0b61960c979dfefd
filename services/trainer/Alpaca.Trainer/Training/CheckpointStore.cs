using Alpaca.Llm.IO;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Optim;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Training;

/// <summary>
/// Resumable checkpoints under <c>ROOT/checkpoint-STEP/</c> (HF's naming):
/// <c>trainable.safetensors</c> (fp32 master weights of every trained parameter: all of them in a full
/// fine-tune, only the adapters with LoRA), <c>optimizer.safetensors</c> (AdamW moments by parameter
/// name), <c>trainer_state.json</c> and, written last, <c>manifest.json</c> (<see cref="CheckpointManifest"/>).
/// A checkpoint is written into a hidden temporary folder, every file and the folder fsynced, and renamed
/// into place (then the root fsynced), so a job killed while saving leaves the previous checkpoint intact;
/// a checkpoint counts only when its manifest matches, so a power loss that truncated the newest one
/// makes resume fall back to the one before it.
/// </summary>
public sealed class CheckpointStore(string root, int keep)
{
    public const string TrainableFile = "trainable.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    private const string Prefix = "checkpoint-";
    private static readonly TimeSpan AbandonedTempAge = TimeSpan.FromHours(1);

    public string Root { get; } = root;

    public string Save(TrainerState state, IReadOnlyList<TrainableParameter> parameters, AdamW optimizer)
    {
        Directory.CreateDirectory(Root);
        var final = Path.Combine(Root, Prefix + state.GlobalStep);
        // Unique per save, not per PID: every container's process is PID 1, and during a takeover a deposed
        // replica may still be saving the same step into the same folder on a shared volume.
        var temp = Path.Combine(Root, $".{Prefix}{state.GlobalStep}.tmp-{Guid.NewGuid():N}");
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        Directory.CreateDirectory(temp);
        TensorBridge.WriteFile(Path.Combine(temp, TrainableFile), parameters.ToDictionary(p => p.Name, p => p.Master));
        TensorBridge.WriteFile(Path.Combine(temp, OptimizerFile), optimizer.StateTensors());
        File.WriteAllText(Path.Combine(temp, StateFile), state.ToJson());
        CheckpointManifest.Write(temp);
        DurableFile.FlushDirectory(temp);
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }

        Directory.Move(temp, final);
        DurableFile.FlushDirectory(Root);
        Prune(state.GlobalStep);
        return final;
    }

    /// <summary>
    /// The newest checkpoint whose manifest matches, or null. Newer folders that fail the check (no
    /// manifest, a truncated or changed file) are skipped and listed in <paramref name="skipped"/> with why.
    /// </summary>
    public string? Latest(out IReadOnlyList<(string Path, string Reason)> skipped)
    {
        var invalid = new List<(string Path, string Reason)>();
        skipped = invalid;
        foreach (var (_, path) in Candidates().OrderByDescending(c => c.Step))
        {
            var problem = CheckpointManifest.Problem(path, RequiredFiles);
            if (problem is null)
            {
                return path;
            }

            invalid.Add((path, problem));
        }

        return null;
    }

    /// <summary>The newest valid checkpoint, or null (see <see cref="Latest(out IReadOnlyList{ValueTuple{string, string}})"/>).</summary>
    public string? Latest() => Latest(out _);

    public static (TrainerState State, Dictionary<string, Tensor> Trainable, Dictionary<string, Tensor> Optimizer) Load(string directory)
    {
        var state = TrainerState.Load(Path.Combine(directory, StateFile));
        var trainable = TensorBridge.Read(Path.Combine(directory, TrainableFile));
        var optimizer = TensorBridge.Read(Path.Combine(directory, OptimizerFile));
        return (state, trainable, optimizer);
    }

    private static readonly string[] RequiredFiles = [TrainableFile, OptimizerFile, StateFile];

    private IEnumerable<(long Step, string Path)> Candidates()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        foreach (var dir in Directory.GetDirectories(Root, Prefix + "*"))
        {
            if (long.TryParse(Path.GetFileName(dir).AsSpan(Prefix.Length), out var step))
            {
                yield return (step, dir);
            }
        }
    }

    // Folders newer than the one just written can only be the invalid ones resume skipped (training
    // continued from an older step), so they go; of the rest the newest `keep` stay, counted by step,
    // valid or not: hashing every kept checkpoint on each save would cost more than it protects.
    private void Prune(long savedStep)
    {
        var all = Candidates().ToList();
        var stale = all.Where(c => c.Step > savedStep);
        var old = all.Where(c => c.Step <= savedStep).OrderByDescending(c => c.Step).Skip(keep);
        foreach (var (_, path) in stale.Concat(old).ToList())
        {
            Directory.Delete(path, recursive: true);
        }

        // Temporary folders of saves that died (a kill mid-save): unique names never get reused, so they go
        // here, once old enough that no live save (a deposed replica's, say) can still be writing them.
        foreach (var temp in Directory.GetDirectories(Root, "." + Prefix + "*.tmp-*"))
        {
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(temp) > AbandonedTempAge)
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }
}
