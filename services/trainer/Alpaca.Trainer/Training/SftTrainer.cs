using System.Diagnostics;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Optim;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Training;

/// <summary>
/// The supervised fine-tuning loop of train.py (HF Trainer semantics) over a prepared model and dataset:
/// <code>
/// for step in steps:                          # each step = one global batch of examples
///     for micro in micro_batches(step):       # gradient accumulation
///         (loss_sum(micro) / learned_tokens(step)).backward()
///     clip_grad_norm(1.0); adamw.step(lr=cosine_with_warmup(step)); zero_grad()
///     every N steps: save checkpoint
/// </code>
/// The loss is the mean over the learned tokens of the whole global batch (transformers ≥ 4.46
/// semantics), so micro-batch size, length grouping and packing change speed, not the result.
/// Cancellation stops between micro-batches without saving anything, exactly like a killed process:
/// the next run resumes from the last checkpoint.
/// </summary>
public sealed class SftTrainer : IDisposable
{
    private readonly LlamaForCausalLM model;
    private readonly SupervisedDataset dataset;
    private readonly TrainingHyperparameters hp;
    private readonly int padId;
    private readonly Device device;
    private readonly CheckpointStore? checkpoints;
    private readonly IReadOnlyDictionary<string, string> fingerprint;
    private readonly List<TrainableParameter> parameters;
    private readonly AdamW optimizer;
    private readonly CosineSchedule schedule;
    private readonly List<LossRecord> history = [];

    public SftTrainer(
        LlamaForCausalLM model,
        SupervisedDataset dataset,
        TrainingHyperparameters hyperparameters,
        int padId,
        Device device,
        string? checkpointRoot,
        IReadOnlyDictionary<string, string>? fingerprint = null)
    {
        hyperparameters.Validate();
        if (dataset.Count == 0)
        {
            throw new ArgumentException("The dataset has no examples.");
        }

        this.model = model;
        this.dataset = dataset;
        hp = hyperparameters;
        this.padId = padId;
        this.device = device;
        this.fingerprint = fingerprint ?? new Dictionary<string, string>();
        checkpoints = checkpointRoot is null ? null : new CheckpointStore(checkpointRoot, hp.KeepCheckpoints);

        StepsPerEpoch = DataOrder.StepsPerEpoch(dataset.Count, hp.GlobalBatchSize);
        TotalSteps = hp.MaxSteps > 0 ? hp.MaxSteps : StepsPerEpoch * hp.Epochs;
        parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => new TrainableParameter(p.name, p.parameter)).ToList();
        if (parameters.Count == 0)
        {
            throw new ArgumentException("The model has no trainable parameters.");
        }

        optimizer = new AdamW(parameters, hp.AdamBeta1, hp.AdamBeta2, hp.AdamEpsilon, hp.WeightDecay);
        schedule = new CosineSchedule(hp.LearningRate, TotalSteps, hp.WarmupRatio);
    }

    public long StepsPerEpoch { get; }

    public long TotalSteps { get; }

    public long GlobalStep { get; private set; }

    /// <summary>Step of the checkpoint this run resumed from (0 = fresh start).</summary>
    public long ResumedFromStep { get; private set; }

    public long LastCheckpointStep { get; private set; }

    public IReadOnlyList<LossRecord> History => history;

    public IReadOnlyList<TrainableParameter> Parameters => parameters;

    public CosineSchedule Schedule => schedule;

    /// <summary>Loads the newest checkpoint under the checkpoint root, if any. Returns its step.</summary>
    public long ResumeIfPossible()
    {
        var latest = checkpoints?.Latest();
        if (latest is null)
        {
            return 0;
        }

        var (state, trainable, moments) = CheckpointStore.Load(latest);
        try
        {
            CheckFingerprint(state, latest);
            foreach (var p in parameters)
            {
                if (!trainable.TryGetValue(p.Name, out var value))
                {
                    throw new InvalidDataException($"{latest}: no weights for trained parameter '{p.Name}'.");
                }

                p.LoadMaster(value);
            }

            optimizer.LoadState(state.AdamStep, moments, latest);
        }
        finally
        {
            foreach (var t in trainable.Values.Concat(moments.Values))
            {
                t.Dispose();
            }
        }

        GlobalStep = state.GlobalStep;
        history.Clear();
        history.AddRange(state.LogHistory.Where(r => r.Step <= state.GlobalStep));
        ResumedFromStep = LastCheckpointStep = state.GlobalStep;
        return state.GlobalStep;
    }

    /// <summary>Runs optimizer steps until <see cref="TotalSteps"/> (resume first with <see cref="ResumeIfPossible"/>).</summary>
    public void Train(IProgress<TrainingStepEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        model.train();
        var clock = Stopwatch.StartNew();
        long tokensThisRun = 0, stepsThisRun = 0;
        int[]? permutation = null;
        long permutationEpoch = -1;

        while (GlobalStep < TotalSteps)
        {
            var epoch = GlobalStep / StepsPerEpoch;
            var stepInEpoch = GlobalStep % StepsPerEpoch;
            if (epoch != permutationEpoch)
            {
                permutation = DataOrder.Permutation(dataset.Count, hp.Seed, epoch);
                permutationEpoch = epoch;
            }

            var indices = DataOrder.GlobalBatch(permutation!, stepInEpoch, hp.GlobalBatchSize);
            var examples = indices.Select(i => dataset.Examples[i]).ToList();
            var microBatches = BatchBuilder.Build(examples, hp.MicroBatchSize, padId, hp.GroupByLength, hp.Packing, hp.MaxLength);
            double loss;
            long tokens;
            try
            {
                (loss, tokens) = AccumulateGradients(microBatches, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Drop the partial step's gradients so this trainer could resume from GlobalStep cleanly.
                using var scope = NewDisposeScope();
                foreach (var p in parameters)
                {
                    p.ZeroGradient();
                }

                throw;
            }

            var learningRate = schedule.LearningRate(GlobalStep);
            double gradNorm;
            using (var scope = NewDisposeScope())
            {
                gradNorm = GradientClipping.ClipByTotalNorm(parameters.Select(p => p.Gradient).OfType<Tensor>(), hp.MaxGradNorm);
                optimizer.Step(learningRate);
                foreach (var p in parameters)
                {
                    p.SyncModelFromMaster();
                    p.ZeroGradient();
                }
            }

            GlobalStep++;
            history.Add(new LossRecord(GlobalStep, loss, learningRate, gradNorm, tokens));
            if (checkpoints is not null && (GlobalStep % hp.CheckpointEverySteps == 0 || GlobalStep == TotalSteps))
            {
                checkpoints.Save(CurrentState(), parameters, optimizer);
                LastCheckpointStep = GlobalStep;
            }

            tokensThisRun += tokens;
            stepsThisRun++;
            var elapsed = clock.Elapsed;
            var eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / stepsThisRun * (TotalSteps - GlobalStep));
            progress?.Report(new TrainingStepEvent(
                GlobalStep, TotalSteps, (double)GlobalStep / StepsPerEpoch, loss, learningRate, gradNorm,
                tokens, tokensThisRun / Math.Max(1e-9, elapsed.TotalSeconds), eta, LastCheckpointStep));
        }
    }

    public void Dispose()
    {
        optimizer.Dispose();
        foreach (var p in parameters)
        {
            p.Dispose();
        }
    }

    private (double Loss, long Tokens) AccumulateGradients(List<MicroBatch> microBatches, CancellationToken cancellationToken)
    {
        // Normalise every micro-batch's summed loss by the learned tokens of the whole step.
        var learned = microBatches.Sum(m => (long)m.TrainedPositions().Length);
        var divisor = Math.Max(1, learned);
        double loss = 0;
        long tokens = 0;
        for (var i = 0; i < microBatches.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            model.Projections.Dropout.Reseed(DataOrder.Mix(DataOrder.Mix(hp.Seed, (ulong)GlobalStep), (ulong)i), device);
            using (var scope = NewDisposeScope())
            {
                var scaled = CausalLmLoss.Sum(model, microBatches[i], device) / divisor;
                scaled.backward();
                loss += scaled.item<float>();
            }

            foreach (var p in parameters)
            {
                p.AccumulateGradient();
            }

            tokens += microBatches[i].RealTokens;
        }

        return (learned == 0 ? double.NaN : loss, tokens);
    }

    private TrainerState CurrentState() => new()
    {
        GlobalStep = GlobalStep,
        TotalSteps = TotalSteps,
        StepsPerEpoch = StepsPerEpoch,
        Epoch = (double)GlobalStep / StepsPerEpoch,
        AdamStep = optimizer.StepCount,
        Seed = hp.Seed,
        DataEpoch = GlobalStep / StepsPerEpoch,
        DataStepInEpoch = GlobalStep % StepsPerEpoch,
        Fingerprint = new Dictionary<string, string>(fingerprint),
        LogHistory = [.. history],
    };

    private void CheckFingerprint(TrainerState state, string checkpoint)
    {
        foreach (var (key, value) in fingerprint)
        {
            if (!state.Fingerprint.TryGetValue(key, out var saved) || saved != value)
            {
                throw new InvalidOperationException(
                    $"{checkpoint} belongs to a different run: '{key}' was {saved ?? "(absent)"}, now {value}. Use a new output folder or the original settings.");
            }
        }

        if (state.TotalSteps != TotalSteps || state.StepsPerEpoch != StepsPerEpoch)
        {
            throw new InvalidOperationException(
                $"{checkpoint} belongs to a different run: it planned {state.TotalSteps} steps of {state.StepsPerEpoch} per epoch, this run {TotalSteps} of {StepsPerEpoch}.");
        }
    }
}
