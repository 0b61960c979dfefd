using System.Globalization;
using Alpaca.Cli.Commands.Eval;
using Alpaca.Contracts.V1;
using Alpaca.Trainer.Data;
using Grpc.Core;
using Grpc.Net.Client;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>What the recipe produced: the model's name, its GGUF file, the job and the sample answer.</summary>
internal sealed record RecipeOutcome(string RecipeId, string ModelName, string GgufPath, string JobId, string SampleInstruction, string SampleAnswer, string? ReportPath);

/// <summary>
/// The recipe's stages, each a durable run or job of the platform's services reached through the gateway:
/// data (a generator run against the teacher, or a given data set), ROUGE-L dedup (a dedup namespace, idempotent
/// by candidate id), fine-tuning and GGUF export (a trainer job), serving (the inference service), a sample
/// answer and a short evaluation. Every id is derived from the inputs (<see cref="RecipeOptions.Id"/>), so a
/// rerun of the same command finds its run, namespace and job where an interruption left them and goes on.
/// </summary>
internal sealed class RecipeRunner(GrpcChannel channel, RecipeOptions options, RecipeInputs inputs, RecipeView view, string workRoot)
{
    private const int DedupBatch = 100;

    private readonly GeneratorService.GeneratorServiceClient _generator = new(channel);
    private readonly DedupService.DedupServiceClient _dedup = new(channel);
    private readonly TrainerService.TrainerServiceClient _trainer = new(channel);
    private readonly InferenceService.InferenceServiceClient _inference = new(channel);

    public async Task<RecipeOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var (id, dataset, sample) = options.TeacherUrl is null
            ? await GivenDataAsync(cancellationToken)
            : await GeneratedDataAsync(cancellationToken);
        var modelName = options.ModelName ?? "alpaca-" + id;
        var job = await TrainAsync(id, dataset, modelName, cancellationToken);
        await ServeAsync(modelName, job.GgufPath, cancellationToken);
        var answer = await SampleAsync(modelName, sample, cancellationToken);
        var report = await EvaluateAsync(id, modelName, cancellationToken);
        return new RecipeOutcome(id, modelName, job.GgufPath, job.Id, sample.Instruction, answer, report);
    }

    /// <summary>A given data set (fetched, checked and read before the platform started, <see cref="RecipeInputs"/>): its first N records, de-duplicated by the dedup service.</summary>
    private async Task<(string Id, DatasetRef Dataset, AlpacaRecord Sample)> GivenDataAsync(CancellationToken cancellationToken)
    {
        var stage = view.Stage("data");
        var (path, records) = (inputs.DataPath!, inputs.Records!);
        var bytes = RecipeData.Serialize(records);
        var id = options.Id("data:" + RecipeData.Sha256(bytes));
        var dir = Path.Combine(workRoot, id);
        RecipeData.WriteAtomically(Path.Combine(dir, "records.json"), bytes);
        stage.Done($"{records.Count} records from {path}; recipe {id}");

        var dedup = view.Stage("dedup");
        var ns = id;
        await _dedup.CreateNamespaceAsync(new CreateNamespaceRequest { Namespace = ns }, cancellationToken: cancellationToken);
        var kept = new List<AlpacaRecord>();
        var rejected = 0;
        for (var start = 0; start < records.Count; start += DedupBatch)
        {
            var request = new SubmitCandidatesRequest { Namespace = ns };
            for (var i = start; i < Math.Min(records.Count, start + DedupBatch); i++)
            {
                // Candidate ids are record positions: a resubmitted batch is answered from the namespace's record.
                request.Candidates.Add(new Candidate { Id = i.ToString("D6", CultureInfo.InvariantCulture), Instruction = records[i].Instruction });
            }

            var response = await _dedup.SubmitCandidatesAsync(request, cancellationToken: cancellationToken);
            var decisions = response.Decisions.ToDictionary(d => d.CandidateId, StringComparer.Ordinal);
            foreach (var candidate in request.Candidates)
            {
                if (decisions[candidate.Id].Kept)
                {
                    kept.Add(records[int.Parse(candidate.Id, CultureInfo.InvariantCulture)]);
                }
                else
                {
                    rejected++;
                }
            }

            dedup.Update(Math.Min(records.Count, start + DedupBatch), records.Count, $"{kept.Count + rejected}/{records.Count} decided, kept {kept.Count}, rejected {rejected} (ROUGE-L > 0.7)");
        }

        var train = Path.Combine(dir, "train.json");
        RecipeData.WriteAtomically(train, RecipeData.Serialize(kept));
        dedup.Done($"kept {kept.Count}, rejected {rejected} (ROUGE-L F > 0.7 to a kept instruction)");
        return (id, new DatasetRef(train, null), kept[0]);
    }

    /// <summary>Self-Instruct against the teacher: a generator run (its dedup is the dedup service's), then its published data set.</summary>
    private async Task<(string Id, DatasetRef Dataset, AlpacaRecord Sample)> GeneratedDataAsync(CancellationToken cancellationToken)
    {
        var stage = view.Stage("generate");
        var request = await RecipeGeneration.RequestAsync(options, Path.Combine(options.StateDir, "downloads"), cancellationToken);
        var id = options.Id("teacher:" + RecipeGeneration.Digest(request));
        request.RunId = id + "-gen";
        var run = (await _generator.StartRunAsync(request, cancellationToken: cancellationToken)).Run;
        stage.Update(0, options.Records, $"run {run.Id} ({run.State.ToString().ToLowerInvariant()})");
        if (!IsFinal(run.State))
        {
            using var watch = _generator.WatchRun(new WatchRunRequest { RunId = run.Id }, cancellationToken: cancellationToken);
            await foreach (var update in watch.ResponseStream.ReadAllAsync(cancellationToken))
            {
                run = update.Run;
                var p = run.Progress ?? new RunProgress();
                stage.Update(p.Kept, options.Records, string.Create(CultureInfo.InvariantCulture,
                    $"kept {p.Kept}/{options.Records}, generated {p.Generated}, rejected {p.RejectedByReason.Values.Sum()} ({string.Join(", ", p.RejectedByReason.Select(r => $"{r.Key} {r.Value}"))}), {p.KeptPerMinute:F1}/min"));
            }
        }

        if (run.State != RunState.Succeeded)
        {
            throw new InvalidOperationException($"generation run {run.Id} ended {run.State}: {run.Error}");
        }

        var progress = run.Progress ?? new RunProgress();
        stage.Done($"kept {progress.Kept} of {progress.Generated} generated; data set {run.DatasetId}");
        var dedup = view.Stage("dedup");
        dedup.Done($"in the run, by the dedup service (namespace {run.DedupNamespace}): kept {progress.Kept}, rejected {progress.RejectedByReason.GetValueOrDefault("rouge_duplicate")} by ROUGE-L");
        var records = RecipeData.Take(run.DatasetPath, 1);
        return (id, new DatasetRef(null, run.DatasetId), records[0]);
    }

    private async Task<Job> TrainAsync(string id, DatasetRef dataset, string modelName, CancellationToken cancellationToken)
    {
        var sft = view.Stage("sft");
        var spec = new JobSpec
        {
            ExportGguf = options.Quant.ToLowerInvariant() switch
            {
                // The tiny preset's FFN width (688) is not a multiple of the 32-value quantization block.
                "auto" => options.IsTiny ? GgufExportType.F16 : GgufExportType.Q80,
                "f32" => GgufExportType.F32,
                "f16" => GgufExportType.F16,
                "q8_0" => GgufExportType.Q80,
                "q4_0" => GgufExportType.Q40,
                var other => throw new ArgumentException($"--quant must be auto, f32, f16, q8_0 or q4_0; got '{other}'."),
            },
            ModelName = modelName,
            Hyperparameters = new Hyperparameters
            {
                Epochs = options.Epochs,
                LearningRate = options.EffectiveLearningRate,
                GlobalBatchSize = options.BatchSize,
                MicroBatchSize = Math.Min(options.MicroBatch, options.BatchSize),
                MaxLength = options.MaxLength,
                Seed = options.Seed,
                Bf16 = !options.IsTiny,
                CheckpointEverySteps = 10,
                MaxSteps = options.MaxSteps,
            },
        };
        if (options.IsTiny)
        {
            spec.BaseModelPreset = "tiny";
        }
        else
        {
            spec.BaseModelPath = Path.GetFullPath(options.Base);
        }

        if (dataset.Id is { } datasetId)
        {
            spec.DatasetId = datasetId;
        }
        else
        {
            spec.DatasetPath = dataset.Path!;
        }

        // Submit is idempotent by job id: a rerun gets the same job back (running, resumed, or finished).
        var job = await SubmitAsync(new SubmitJobRequest { JobId = id + "-sft", Spec = spec }, cancellationToken);
        view.Line($"[sft] job {job.Id} accepted ({job.State.ToString().ToLowerInvariant()})");
        RecipeStage? export = null;
        if (!IsFinal(job.State))
        {
            using var watch = _trainer.WatchJob(new WatchJobRequest { JobId = job.Id }, cancellationToken: cancellationToken);
            await foreach (var update in watch.ResponseStream.ReadAllAsync(cancellationToken))
            {
                job = update.Job;
                if (job.State == JobState.Exporting && export is null)
                {
                    sft.Done(Describe(job));
                    export = view.Stage("export");
                    export.Update(0, 1, $"GGUF {spec.ExportGguf}");
                }
                else if (export is null && job.Progress is { } p)
                {
                    sft.Update(p.Step, Math.Max(p.TotalSteps, 1), Describe(job));
                }
            }
        }

        if (job.State != JobState.Succeeded)
        {
            throw new InvalidOperationException($"training job {job.Id} ended {job.State}: {job.Error}");
        }

        if (export is null)
        {
            sft.Done(Describe(job));
            export = view.Stage("export");
        }

        export.Done($"{job.GgufPath} ({new FileInfo(job.GgufPath).Length / 1e6:F1} MB)");
        return job;
    }

    /// <summary>The embedded inference service loads a published model by itself; a platform where that is off is asked to.</summary>
    private async Task ServeAsync(string modelName, string ggufPath, CancellationToken cancellationToken)
    {
        var stage = view.Stage("serve");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        var asked = false;
        var waitedSince = DateTime.UtcNow;
        while (true)
        {
            var model = (await _inference.ListModelsAsync(new ListModelsRequest(), cancellationToken: cancellationToken)).Models.FirstOrDefault(m => m.Name == modelName);
            if (model?.State == ModelState.Ready)
            {
                stage.Done($"{modelName} ready ({model.Quantization}, {model.ParameterCount / 1e6:F1}M parameters)");
                return;
            }

            if (model?.State == ModelState.Failed && asked)
            {
                throw new InvalidOperationException($"the inference service could not load {modelName}: {model.Error}");
            }

            if (!asked && (model is null || model.State == ModelState.Failed) && DateTime.UtcNow - waitedSince > TimeSpan.FromSeconds(5))
            {
                asked = true;
                try
                {
                    await _inference.LoadModelAsync(new LoadModelRequest { Name = modelName, Path = ggufPath, MakeDefault = true }, cancellationToken: cancellationToken);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
                {
                    // Loaded meanwhile by the published-model event.
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{modelName} was not ready after 3 minutes.");
            }

            stage.Update(0, 1, model is null ? "waiting for the inference service to load it" : model.State.ToString().ToLowerInvariant());
            await Task.Delay(200, cancellationToken);
        }
    }

    private async Task<string> SampleAsync(string modelName, AlpacaRecord sample, CancellationToken cancellationToken)
    {
        var stage = view.Stage("sample");
        var response = await _inference.CompleteAsync(new CompleteRequest
        {
            Request = new GenerateRequest
            {
                Model = modelName,
                Instruction = new AlpacaInstruction { Instruction = sample.Instruction, Input = sample.Input },
                Sampling = new SamplingParameters { Temperature = 0 },
                Stopping = new StoppingCriteria { MaxTokens = 64 },
            },
        }, cancellationToken: cancellationToken);
        stage.Done($"{response.Result?.Usage?.CompletionTokens ?? 0} tokens");
        return response.Text.Trim();
    }

    /// <summary>A short Self-Instruct evaluation whose report the console lists; skipped (not failed) when the suite cannot be had.</summary>
    private async Task<string?> EvaluateAsync(string id, string modelName, CancellationToken cancellationToken)
    {
        if (options.EvalLimit <= 0)
        {
            return null;
        }

        var stage = view.Stage("eval");
        List<EvalItem> items;
        try
        {
            var (suite, predictions) = await EvalCommand.SuiteFilesAsync(options.EvalSuite, options.EvalPredictions, Path.Combine(options.StateDir, "downloads"), cancellationToken);
            items = EvalSuite.Load(suite, predictions).Take(options.EvalLimit).ToList();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or HttpRequestException)
        {
            stage.Done($"skipped: {e.Message}");
            return null;
        }

        var outcome = await EvalRunner.RunAsync(new EvalSettings
        {
            Items = items,
            Answers = new GatewayAnswers(channel, modelName, 128),
            ModelLabel = modelName,
            OutDir = Path.Combine(workRoot, id, "eval"),
            ReportsDir = Path.Combine(options.StateDir, "reports"),
        }, (done, total, rate) => stage.Update(done, total, string.Create(CultureInfo.InvariantCulture, $"{done}/{total} items, {rate:F2} items/s")), cancellationToken);
        var mean = EvalSummary.Mean(outcome.Rows, "rougeL_f") ?? 0;
        stage.Done(string.Create(CultureInfo.InvariantCulture, $"{outcome.Rows.Count} items, ROUGE-L F mean {mean:F4}, {outcome.ItemsPerSecond:F2} items/s; report {outcome.CopiedReport}"));
        return outcome.CopiedReport;
    }

    private static string Describe(Job job)
    {
        if (job.Progress is not { Step: > 0 } p)
        {
            return job.State.ToString().ToLowerInvariant();
        }

        var eta = p.Eta?.ToTimeSpan() ?? TimeSpan.Zero;
        return string.Format(CultureInfo.InvariantCulture, "step {0}/{1}  epoch {2:F2}  loss {3:F4}  {4:N0} tok/s  ETA {5:hh\\:mm\\:ss}", p.Step, p.TotalSteps, p.Epoch, p.Loss, p.TokensPerSecond, eta);
    }

    /// <summary>
    /// Submits the job. A generated data set reaches the trainer as a <c>DatasetPublished</c> event, which may
    /// arrive a moment after the run ended (the bus is asynchronous, and slower on a loaded machine): until it
    /// has, the trainer refuses the data set id, so that refusal is retried for a while before it counts.
    /// </summary>
    private async Task<Job> SubmitAsync(SubmitJobRequest request, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return (await _trainer.SubmitJobAsync(request, cancellationToken: cancellationToken)).Job;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && request.Spec.DatasetCase == JobSpec.DatasetOneofCase.DatasetId
                && e.Status.Detail.Contains("no dataset-published event recorded", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
    }

    private static bool IsFinal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    private static bool IsFinal(RunState state) => state is RunState.Succeeded or RunState.Failed or RunState.Cancelled;

    private sealed record DatasetRef(string? Path, string? Id);
}
