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
    private readonly LlamaForCausalLM _model;
    private readonly SupervisedDataset _dataset;
    private readonly TrainingHyperparameters _hp;
    private readonly int _padId;
    private readonly Device _device;
    private readonly CheckpointStore? _checkpoints;
    private readonly IReadOnlyDictionary<string, string> _fingerprint;
    private readonly List<TrainableParameter> _parameters;
    private readonly AdamW _optimizer;
    private readonly CosineSchedule _schedule;
    private readonly List<LossRecord> _history = [];

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

        this._model = model;
        this._dataset = dataset;
        _hp = hyperparameters;
        this._padId = padId;
        this._device = device;
        this._fingerprint = fingerprint ?? new Dictionary<string, string>();
        _checkpoints = checkpointRoot is null ? null : new CheckpointStore(checkpointRoot, _hp.KeepCheckpoints);

        StepsPerEpoch = DataOrder.StepsPerEpoch(dataset.Count, _hp.GlobalBatchSize);
        TotalSteps = _hp.MaxSteps > 0 ? _hp.MaxSteps : StepsPerEpoch * _hp.Epochs;
        _parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => new TrainableParameter(p.name, p.parameter)).ToList();
        if (_parameters.Count == 0)
        {
            throw new ArgumentException("The model has no trainable parameters.");
        }

        _optimizer = new AdamW(_parameters, _hp.AdamBeta1, _hp.AdamBeta2, _hp.AdamEpsilon, _hp.WeightDecay);
        _schedule = new CosineSchedule(_hp.LearningRate, TotalSteps, _hp.WarmupRatio);
    }

    public long StepsPerEpoch { get; }

    public long TotalSteps { get; }

    public long GlobalStep { get; private set; }

    /// <summary>Step of the checkpoint this run resumed from (0 = fresh start).</summary>
    public long ResumedFromStep { get; private set; }

    public long LastCheckpointStep { get; private set; }

    public IReadOnlyList<LossRecord> History => _history;

    /// <summary>Checkpoints newer than the one resumed from that failed their manifest check, with why.</summary>
    public IReadOnlyList<(string Path, string Reason)> SkippedCheckpoints { get; private set; } = [];

    public IReadOnlyList<TrainableParameter> Parameters => _parameters;

    public CosineSchedule Schedule => _schedule;

    /// <summary>Loads the newest checkpoint under the checkpoint root, if any. Returns its step.</summary>
    public long ResumeIfPossible()
    {
        IReadOnlyList<(string Path, string Reason)> skipped = [];
        var latest = _checkpoints?.Latest(out skipped);
        SkippedCheckpoints = skipped;
        foreach (var (path, reason) in SkippedCheckpoints)
        {
            // The trainer core has no logger; stderr reaches the job's log in every host.
            Console.Error.WriteLine($"resume: skipped checkpoint {path}: {reason}");
        }

        if (latest is null)
        {
            return 0;
        }

        var (state, trainable, moments) = CheckpointStore.Load(latest);
        try
        {
            CheckFingerprint(state, latest);
            foreach (var p in _parameters)
            {
                if (!trainable.TryGetValue(p.Name, out var value))
                {
                    throw new InvalidDataException($"{latest}: no weights for trained parameter '{p.Name}'.");
                }

                p.LoadMaster(value);
            }

            _optimizer.LoadState(state.AdamStep, moments, latest);
        }
        finally
        {
            foreach (var t in trainable.Values.Concat(moments.Values))
            {
                t.Dispose();
            }
        }

        GlobalStep = state.GlobalStep;
        _history.Clear();
        _history.AddRange(state.LogHistory.Where(r => r.Step <= state.GlobalStep));
        ResumedFromStep = LastCheckpointStep = state.GlobalStep;
        return state.GlobalStep;
    }

    /// <summary>Runs optimizer steps until <see cref="TotalSteps"/> (resume first with <see cref="ResumeIfPossible"/>).</summary>
    public void Train(IProgress<TrainingStepEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        _model.train();
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
                permutation = DataOrder.Permutation(_dataset.Count, _hp.Seed, epoch);
                permutationEpoch = epoch;
            }

            var indices = DataOrder.GlobalBatch(permutation!, stepInEpoch, _hp.GlobalBatchSize);
            var examples = indices.Select(i => _dataset.Examples[i]).ToList();
            var microBatches = BatchBuilder.Build(examples, _hp.MicroBatchSize, _padId, _hp.GroupByLength, _hp.Packing, _hp.MaxLength);
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
                foreach (var p in _parameters)
                {
                    p.ZeroGradient();
                }

                throw;
            }

            var learningRate = _schedule.LearningRate(GlobalStep);
            double gradNorm;
            using (var scope = NewDisposeScope())
            {
                gradNorm = GradientClipping.ClipByTotalNorm(_parameters.Select(p => p.Gradient).OfType<Tensor>(), _hp.MaxGradNorm);
                _optimizer.Step(learningRate);
                foreach (var p in _parameters)
                {
                    p.SyncModelFromMaster();
                    p.ZeroGradient();
                }
            }

            GlobalStep++;
            _history.Add(new LossRecord(GlobalStep, loss, learningRate, gradNorm, tokens));
            if (_checkpoints is not null && (GlobalStep % _hp.CheckpointEverySteps == 0 || GlobalStep == TotalSteps))
            {
                _checkpoints.Save(CurrentState(), _parameters, _optimizer);
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
        _optimizer.Dispose();
        foreach (var p in _parameters)
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
            _model.Projections.Dropout.Reseed(DataOrder.Mix(DataOrder.Mix(_hp.Seed, (ulong)GlobalStep), (ulong)i), _device);
            using (var scope = NewDisposeScope())
            {
                var scaled = CausalLmLoss.Sum(_model, microBatches[i], _device) / divisor;
                scaled.backward();
                loss += scaled.item<float>();
            }

            foreach (var p in _parameters)
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
        AdamStep = _optimizer.StepCount,
        Seed = _hp.Seed,
        DataEpoch = GlobalStep / StepsPerEpoch,
        DataStepInEpoch = GlobalStep % StepsPerEpoch,
        Fingerprint = new Dictionary<string, string>(_fingerprint),
        LogHistory = [.. _history],
    };

    private void CheckFingerprint(TrainerState state, string checkpoint)
    {
        foreach (var (key, value) in _fingerprint)
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
