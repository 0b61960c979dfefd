using System.Diagnostics;
using System.Text.Json;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Export;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Presets;
using Alpaca.Trainer.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Training;

/// <summary>
/// One fine-tuning job end to end, as train.py runs it: load the base model and tokenizer, add
/// <c>[PAD]</c> if missing (mean-initialised rows), tokenize and mask the data, train (resuming from
/// the newest checkpoint in the output folder), save an HF checkpoint (LoRA merged or as an adapter),
/// optionally export GGUF. Runs on its own thread; cancellation stops it between micro-batches.
/// </summary>
public static class TrainingJob
{
    public static Task<TrainingResult> RunAsync(
        TrainingJobSpec spec,
        IProgress<TrainingStepEvent>? steps = null,
        IProgress<TrainingPhase>? phases = null,
        CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(() => Run(spec, steps, phases, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static TrainingResult Run(
        TrainingJobSpec spec,
        IProgress<TrainingStepEvent>? steps = null,
        IProgress<TrainingPhase>? phases = null,
        CancellationToken cancellationToken = default)
    {
        var hp = spec.Hyperparameters;
        hp.Validate();
        spec.Lora?.Validate();
        TorchRuntime.Initialize(spec.Threads);
        var device = TorchRuntime.SelectDevice(spec.Device);
        var bf16 = hp.Precision switch
        {
            PrecisionMode.Float32 => false,
            PrecisionMode.BFloat16 => TorchRuntime.SupportsBFloat16(device)
                ? true
                : throw new InvalidOperationException($"bf16 was requested but device {device} has no native bf16 support."),
            _ => TorchRuntime.SupportsBFloat16(device),
        };
        var precision = bf16 ? "bf16-mixed" : "fp32";

        phases?.Report(TrainingPhase.Loading);
        Directory.CreateDirectory(spec.OutputDir);
        if (spec.ExportFence is { } fence)
        {
            // A replica that takes the job over starts from the newest confirmed export, whatever a deposed holder renamed over it.
            StagedExport.Reconcile(spec.OutputDir, fence);
        }

        var records = AlpacaDataReader.Read(spec.DataPath);
        if (spec.MaxRecords > 0 && records.Count > spec.MaxRecords)
        {
            records = records.GetRange(0, spec.MaxRecords);
        }

        var baseDir = string.Equals(spec.BaseModel, TinyPreset.Name, StringComparison.OrdinalIgnoreCase)
            ? TinyPreset.Ensure(spec.TinyBaseDir, records, hp.Seed, hp.MaxLength)
            : spec.BaseModel;

        using var projections = new ProjectionFactory(spec.Lora, hp.Seed);
        using var baseModel = HfCheckpoint.Load(baseDir);
        if (hp.MaxLength > baseModel.Config.ContextLength)
        {
            // Positions past the model's context were never trained.
            throw new ArgumentException(
                $"max length {hp.MaxLength} exceeds the base model's context (max_position_embeddings {baseModel.Config.ContextLength} in {baseDir}).");
        }

        AddPadTokenIfMissing(baseModel);

        phases?.Report(TrainingPhase.Tokenizing);
        var dataset = SupervisedDataset.Build(records, baseModel.Tokenizer, hp.MaxLength, cancellationToken);

        using var model = new LlamaForCausalLM(baseModel.Config, projections);
        ModelWeights.Load(model, baseModel.Weights, baseDir);
        baseModel.Dispose(); // the model holds its own copy now
        if (spec.Lora is not null)
        {
            LoraAdapter.FreezeBase(model);
        }

        model.to(device);
        if (bf16)
        {
            model.to(ScalarType.BFloat16);
        }

        var fingerprint = Fingerprint.Of(hp, precision, baseModel.Config, dataset, spec.Lora, Path.GetFullPath(baseDir));
        using var trainer = new SftTrainer(model, dataset, hp, baseModel.Tokenizer.PadTokenId!.Value, device, spec.CheckpointDir, fingerprint);
        trainer.ResumeIfPossible();

        phases?.Report(TrainingPhase.Training);
        trainer.Train(steps, cancellationToken);

        phases?.Report(TrainingPhase.Saving);
        model.eval();
        var merge = spec.Lora?.MergeOnExport ?? false;

        // Written apart and put into the output folder only once spec.ExportFence confirmed it (StagedExport).
        using var export = StagedExport.Create(spec.OutputDir, spec.ExportFence);
        HfCheckpoint.Save(export.Folder, model, bf16 ? ScalarType.BFloat16 : ScalarType.Float32, merge, baseModel.Tokenizer, baseDir, baseModel.ConfigJson, hp.MaxLength);
        string? adapterDir = null;
        if (spec.Lora is not null)
        {
            adapterDir = spec.AdapterDir;
            LoraAdapter.Save(export.StagedPath(adapterDir), model, Path.GetFullPath(baseDir));
        }

        string? gguf = null;
        if (spec.ExportGguf != GgufExportType.None)
        {
            phases?.Report(TrainingPhase.Exporting);
            gguf = export.FinalPath(GgufExporter.Export(export.Folder, spec.ExportGguf));
        }

        var history = trainer.History;
        var result = new TrainingResult(
            spec.OutputDir, adapterDir, gguf, trainer.GlobalStep, trainer.ResumedFromStep,
            history.Count > 0 ? history[^1].Loss : double.NaN, history, precision, device.ToString());
        File.WriteAllText(Path.Combine(export.Folder, "training_result.json"), JsonSerializer.Serialize(result, ResultJson));
        var manifest = export.Commit();
        phases?.Report(TrainingPhase.Done);

        // The GGUF's digest as confirmed: what ModelPublished announces, so a server never loads another file silently.
        return result with { GgufSha256 = gguf is null ? null : manifest.Find(Path.GetRelativePath(export.OutputDir, gguf))?.Sha256 };
    }

    /// <summary>
    /// train.py's <c>smart_tokenizer_and_embedding_resize</c>: when the tokenizer has no pad token,
    /// add <c>[PAD]</c> and grow the embedding and head with rows set to the mean of the old rows.
    /// </summary>
    public static void AddPadTokenIfMissing(HfBaseModel baseModel)
    {
        if (baseModel.Tokenizer.PadTokenId is not null)
        {
            return;
        }

        baseModel.Tokenizer = baseModel.Tokenizer.WithAddedPad();
        baseModel.Config = EmbeddingResize.AddMeanRows(baseModel.Weights, baseModel.Config, baseModel.Tokenizer.Count)
            with
        { PadTokenId = baseModel.Tokenizer.PadTokenId };
        Debug.Assert(baseModel.Config.VocabSize == baseModel.Tokenizer.Count, "vocabulary and embedding rows agree");
    }

    private static readonly JsonSerializerOptions ResultJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
