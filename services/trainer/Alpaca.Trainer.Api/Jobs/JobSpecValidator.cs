using Alpaca.Contracts.V1;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.Trainer.Api.Datasets;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Presets;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// Everything about a spec that can be checked without torch, checked at submit so the caller gets
/// INVALID_ARGUMENT with the reason instead of a job that fails later: the base model folder (files present,
/// a LLaMA config), the data (present, every record well-formed — errors name the line), hyper-parameters,
/// LoRA, and a max length within the model's context. Caller-named paths are confined first (<see cref="JobPaths"/>:
/// PERMISSION_DENIED outside the roots, before anything looks at the file). What can still go wrong later (a file removed while the
/// job queued, bad weights) fails the job with the reason.
/// </summary>
public sealed class JobSpecValidator(DatasetCatalog catalog, JobPaths paths)
{
    public async Task ValidateAsync(JobSpec? spec, CancellationToken cancellationToken)
    {
        if (spec is null)
        {
            throw new JobSpecException("spec is required.");
        }

        if (!string.IsNullOrWhiteSpace(spec.OutputDir))
        {
            paths.Output(spec.OutputDir);
        }

        var hp = JobSpecMapper.Hyperparameters(spec.Hyperparameters);
        Check(hp.Validate);
        Check(() => JobSpecMapper.Lora(spec.Lora)?.Validate());
        JobSpecMapper.Export(spec.ExportGguf);

        var context = BaseModelContext(spec, paths);
        if (hp.MaxLength > context)
        {
            throw new JobSpecException($"hyperparameters.max_length {hp.MaxLength} exceeds the base model's context (max_position_embeddings {context}).");
        }

        var dataPath = await ResolveDataPathAsync(spec, cancellationToken).ConfigureAwait(false);

        // Reading is the only way to name a malformed record's line; 52K records take well under a second.
        await Task.Run(() => Check(() => AlpacaDataReader.Read(dataPath)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The data file of a spec: its path, or the path a published data set was recorded with.</summary>
    public async Task<string> ResolveDataPathAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        switch (spec.DatasetCase)
        {
            case JobSpec.DatasetOneofCase.DatasetPath when !string.IsNullOrWhiteSpace(spec.DatasetPath):
                return paths.Read(spec.DatasetPath, "spec.dataset_path");
            case JobSpec.DatasetOneofCase.DatasetId:
                var dataset = await catalog.FindAsync(spec.DatasetId, cancellationToken).ConfigureAwait(false)
                    ?? throw new JobSpecException($"dataset_id '{spec.DatasetId}' is not a data set the generator has published (no dataset-published event recorded).");
                var path = Path.GetFullPath(dataset.DatasetPath);
                await CheckPublishedDigestAsync(dataset, path, cancellationToken).ConfigureAwait(false);
                return path;
            default:
                throw new JobSpecException("spec.dataset_path or spec.dataset_id is required.");
        }
    }

    /// <summary>
    /// A published data set is used only as it was published: its file's SHA-256 must be the event's (the generator's
    /// confirmed export), so a file replaced since (a stale export of a deposed generator replica, a hand edit) fails
    /// the job with both digests instead of training on other data silently.
    /// </summary>
    private static async Task CheckPublishedDigestAsync(DatasetPublished dataset, string path, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(dataset.Sha256) || !File.Exists(path))
        {
            return; // no digest published (an older event), or missing: the reader names the missing file
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        var actual = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        if (!string.Equals(actual, dataset.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new JobSpecException($"dataset_id '{dataset.DatasetId}': {path} has SHA-256 {actual}, but the generator published {dataset.Sha256.ToLowerInvariant()}; the file is not the published data set.");
        }
    }

    /// <summary>The base model's max_position_embeddings, after checking that the folder holds a LLaMA checkpoint.</summary>
    private static int BaseModelContext(JobSpec spec, JobPaths paths)
    {
        switch (spec.BaseModelCase)
        {
            case JobSpec.BaseModelOneofCase.BaseModelPreset:
                if (!string.Equals(spec.BaseModelPreset.Trim(), TinyPreset.Name, StringComparison.OrdinalIgnoreCase))
                {
                    throw new JobSpecException($"Unknown base_model_preset '{spec.BaseModelPreset}'; the presets are: {TinyPreset.Name}.");
                }

                return TinyPreset.Config(TinyPreset.VocabularySize).ContextLength;
            case JobSpec.BaseModelOneofCase.BaseModelPath when !string.IsNullOrWhiteSpace(spec.BaseModelPath):
                var folder = paths.Read(spec.BaseModelPath, "spec.base_model_path");
                if (!Directory.Exists(folder))
                {
                    throw new JobSpecException($"Base model folder not found: {folder}");
                }

                var configPath = Path.Combine(folder, HfCheckpoint.ConfigFile);
                if (!File.Exists(configPath))
                {
                    throw new JobSpecException($"{folder}: no {HfCheckpoint.ConfigFile}; expected a Hugging Face checkpoint folder.");
                }

                // The architecture first: a GPT-2 folder (or a Mistral one with a sliding window) is refused for what it is, not for a missing file.
                LlamaConfig config = null!;
                Check(() => config = LlamaConfig.ReadHfConfig(configPath));
                if (!File.Exists(Path.Combine(folder, SafetensorsCheckpoint.SingleFileName)) && !File.Exists(Path.Combine(folder, SafetensorsCheckpoint.IndexFileName)))
                {
                    throw new JobSpecException($"{folder}: neither {SafetensorsCheckpoint.SingleFileName} nor {SafetensorsCheckpoint.IndexFileName} found.");
                }

                if (!HfTokenizerFiles.Exists(folder))
                {
                    throw new JobSpecException($"{folder}: no {SentencePieceModelFile.FileName} or {HfTokenizerJson.FileName}; no tokenizer found.");
                }

                return config.ContextLength;
            default:
                throw new JobSpecException("spec.base_model_path or spec.base_model_preset is required.");
        }
    }

    /// <summary>The core's input errors (they name file, line and field) become the caller's reason.</summary>
    private static void Check(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new JobSpecException(e.Message, e);
        }
    }
}
