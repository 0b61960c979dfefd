using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Metrics;
using Alpaca.Inference.Model;
using Alpaca.Inference.Serving;
using Alpaca.Inference.Serving.Speculative;
using Alpaca.Llm.Chat;

namespace Alpaca.Inference.Api.Models;

/// <summary>
/// The models this process serves, by name, and which one is the default. Loading a name that is already
/// served is a hot swap: the new engine is loaded beside the old one, requests that arrive after the swap
/// go to the new one, the old one finishes what it already accepted (queued and running) and is then
/// released. Unloading drains the same way. A load whose weights and full KV cache, plus those of every
/// model already held (a hot swap holds both), exceed the memory budget (<see cref="MemoryBudget"/>) is
/// refused before anything is allocated.
/// </summary>
public sealed class ModelRegistry(InferenceOptions options, InferenceMetrics metrics, ILogger<ModelRegistry> logger) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, ServedModel> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelInfo> _notReady = new(StringComparer.Ordinal);
    private readonly List<ServedModel> _retiring = [];
    private readonly List<Task> _retirements = [];
    private readonly Dictionary<ServedModel, long> _footprints = [];
    private long _reserving;
    private readonly TaskCompletionSource _firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _default;

    /// <summary>True when at least one model is ready (the readiness check).</summary>
    public bool IsReady
    {
        get
        {
            lock (_gate)
            {
                return _models.Count > 0;
            }
        }
    }

    /// <summary>Completes when the first model becomes ready.</summary>
    public Task WhenReadyAsync(CancellationToken cancellationToken = default) => _firstReady.Task.WaitAsync(cancellationToken);

    /// <summary>The model called <paramref name="name"/>, or the default one for an empty name.</summary>
    public ServedModel Resolve(string? name)
    {
        lock (_gate)
        {
            if (string.IsNullOrEmpty(name))
            {
                return _default is not null && _models.TryGetValue(_default, out var d)
                    ? d
                    : throw new InferenceException(InferenceErrorKind.FailedPrecondition, "No model is loaded: load one with LoadModel (alpaca models load) or start the service with Alpaca:Inference:Model.");
            }

            if (_models.TryGetValue(name, out var model))
            {
                return model;
            }

            if (_notReady.TryGetValue(name, out var info) && info.State == ModelState.Loading)
            {
                throw new InferenceException(InferenceErrorKind.FailedPrecondition, $"Model '{name}' is still loading.");
            }

            var known = _models.Count == 0 ? "no model is loaded" : "loaded: " + string.Join(", ", _models.Keys.Order(StringComparer.Ordinal));
            throw new InferenceException(InferenceErrorKind.NotFound, $"Model '{name}' is not loaded ({known}).", param: "model");
        }
    }

    /// <summary>Makes a served model the default; false when no model of that name is ready.</summary>
    public bool TrySetDefault(string name)
    {
        lock (_gate)
        {
            if (!_models.ContainsKey(name))
            {
                return false;
            }

            _default = name;
            return true;
        }
    }

    public bool IsDefault(string name)
    {
        lock (_gate)
        {
            return _default == name;
        }
    }

    /// <summary>Every model: ready ones, those draining after a swap or unload, loading and failed ones.</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        lock (_gate)
        {
            var list = _models.Values.Select(m => m.Describe(m.Name == _default)).ToList();
            list.AddRange(_retiring.Select(m => m.Describe(false)));
            list.AddRange(_notReady.Values.Where(i => !_models.ContainsKey(i.Name)).Select(i => i.Clone()));
            return list;
        }
    }

    /// <summary>Loads a model (off the calling thread) and swaps it in under its name once ready.</summary>
    public async Task<ServedModel> LoadAsync(LoadSpec spec, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (string.IsNullOrWhiteSpace(spec.Path))
        {
            throw InferenceException.Invalid("path is empty: give the GGUF file to load.", "path");
        }

        var path = System.IO.Path.GetFullPath(spec.Path);
        var backend = EngineLoader.Choose(spec, options);
        if (!File.Exists(path) && !(backend.Backend == EngineLoader.Torch && Directory.Exists(path)))
        {
            throw new InferenceException(InferenceErrorKind.NotFound, $"Model file not found: {path}", param: "path");
        }

        var name = string.IsNullOrWhiteSpace(spec.Name) ? System.IO.Path.GetFileNameWithoutExtension(path) : spec.Name.Trim();
        lock (_gate)
        {
            _notReady[name] = new ModelInfo { Name = name, Path = path, State = ModelState.Loading };
        }

        var modelOptions = new ModelOptions
        {
            Threads = spec.Threads > 0 ? spec.Threads : options.Threads,
            MaxSequences = Math.Max(1, options.MaxSequences),
            ContextLength = spec.ContextLength > 0 ? spec.ContextLength : options.ContextLength,
            KvCacheType = KvCacheTypes.Parse(spec.KvCacheType ?? options.KvCacheType),
            KvBlockTokens = options.KvBlockTokens,
            KvCacheTokens = options.KvCacheTokens,
            PrefixCaching = options.PrefixCaching,
        };

        var draftTokens = spec.DraftModel is null ? 0 : DraftLoader.Tokens(spec, options);

        // The host budget covers CPU-engine models; a torch model checks its device budget itself at load.
        var footprint = backend.Backend == EngineLoader.Cpu ? Reserve(name, path, modelOptions) : 0;
        Engine engine;
        ModelChat chat;
        Engine? draft;
        try
        {
            // Not cancellable: a caller that goes away mid-load does not leave a half-loaded model behind.
            (engine, chat, draft) = await Task.Run(() => LoadWithChat(path, name, modelOptions, backend, spec), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _notReady[name] = new ModelInfo { Name = name, Path = path, State = ModelState.Failed, Error = ex.Message };
            }

            lock (_gate)
            {
                _reserving -= footprint;
            }

            logger.LogWarning(ex, "Loading model {Model} from {Path} failed", name, path);
            if (ex is InferenceException)
            {
                throw; // the draft model's own error, naming draft_model
            }

            // A file that is not a usable model (format, shape, tokenizer, I/O) is the caller's argument.
            if (ex is not OutOfMemoryException)
            {
                throw new InferenceException(InferenceErrorKind.InvalidArgument, $"Cannot load {path}: {ex.Message}", param: "path");
            }

            throw;
        }

        var scheduler = new ContinuousBatchScheduler(
            engine,
            new SchedulerOptions
            {
                MaxQueue = Math.Max(0, options.MaxQueue),
                PrefillChunkTokens = Math.Max(1, options.PrefillChunkTokens),
                Speculation = draft is null ? null : new SpeculationOptions { Draft = draft, Tokens = draftTokens },
            },
            metrics.ObserverFor(name),
            name);
        var served = new ServedModel(name, path, engine, scheduler, chat) { Draft = draft, DraftPath = draft is null ? null : System.IO.Path.GetFullPath(spec.DraftModel!), DraftTokens = draftTokens };
        ServedModel? old;
        lock (_gate)
        {
            _reserving -= footprint;
            _footprints[served] = footprint;
            _models.TryGetValue(name, out old);
            _models[name] = served;
            _notReady.Remove(name);
            if (spec.MakeDefault || _default is null || !_models.ContainsKey(_default))
            {
                _default = name;
            }
        }

        metrics.Track(served);
        _firstReady.TrySetResult();
        logger.LogInformation("Model {Model} ready ({Path}, backend {Backend} on {Device}, {Slots} KV slots of {Context} tokens, {Threads} threads, draft {Draft})", name, path, engine.Model.Backend, engine.Model.Device, scheduler.Slots, scheduler.ContextLength, engine.Model.Threads, served.DraftPath ?? "none");
        if (old is not null)
        {
            _ = Retire(old); // in the background: the caller has its new model now
        }

        return served;
    }

    // The CPU engine's weights are memory-mapped, so a chat choice that does not parse costs little to find
    // after them (a torch model has copied its weights by then; it is freed at once).
    private (Engine, ModelChat, Engine?) LoadWithChat(string path, string name, ModelOptions modelOptions, EngineLoader.BackendSpec backend, LoadSpec spec)
    {
        var engine = EngineLoader.Load(path, modelOptions, backend);
        try
        {
            var chat = ModelChat.For(engine.Vocabulary, spec.ChatTemplate);
            return (engine, chat, DraftLoader.Load(spec.DraftModel, name, engine, modelOptions, options.DraftThreads));
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    // Checks the budget and holds the model's bytes until it is loaded (or fails), so two loads at once
    // cannot both pass against the same free memory. Returns the bytes held (0 without a budget).
    private long Reserve(string name, string path, ModelOptions modelOptions)
    {
        var budget = MemoryBudget.Resolve(options.MemoryBudgetBytes, options.CgroupRoot);
        if (budget is null)
        {
            return 0;
        }

        MemoryBudget.Footprint footprint;
        try
        {
            footprint = MemoryBudget.Estimate(path, modelOptions);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            lock (_gate)
            {
                _notReady[name] = new ModelInfo { Name = name, Path = path, State = ModelState.Failed, Error = ex.Message };
            }

            throw new InferenceException(InferenceErrorKind.InvalidArgument, $"Cannot load {path}: {ex.Message}", param: "path");
        }

        lock (_gate)
        {
            var held = _footprints.Values.Sum() + _reserving;
            if (held + footprint.TotalBytes > budget.Value)
            {
                var source = options.MemoryBudgetBytes > 0 ? "Alpaca:Inference:MemoryBudgetBytes" : $"the cgroup memory limit under {options.CgroupRoot}";
                var message = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Model '{name}' needs {footprint.Describe()}; with {held:N0} B held by loaded models that exceeds the memory budget of {budget.Value:N0} B ({source}). Lower Alpaca:Inference:ContextLength or MaxSequences, unload a model, or raise the budget.");
                _notReady[name] = new ModelInfo { Name = name, Path = path, State = ModelState.Failed, Error = message };
                logger.LogWarning("Refused to load model {Model}: {Reason}", name, message);
                throw new InferenceException(InferenceErrorKind.FailedPrecondition, message, param: "path");
            }

            _reserving += footprint.TotalBytes;
        }

        return footprint.TotalBytes;
    }

    /// <summary>Removes a model; it finishes its in-flight requests before it is released. False when no such model.</summary>
    public async Task<bool> UnloadAsync(string name, CancellationToken cancellationToken = default)
    {
        ServedModel? model;
        lock (_gate)
        {
            if (!_models.Remove(name, out model))
            {
                return _notReady.Remove(name);
            }

            if (_default == name)
            {
                _default = _models.Keys.Order(StringComparer.Ordinal).FirstOrDefault();
            }
        }

        await Retire(model).WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    // Stop taking requests, let accepted ones finish, then free the engine's memory and threads.
    private Task Retire(ServedModel model)
    {
        model.Scheduler.BeginDrain();
        lock (_gate)
        {
            _retiring.Add(model);
        }

        var task = Task.Run(async () =>
        {
            await model.Scheduler.Drained.ConfigureAwait(false);
            model.Scheduler.Dispose();
            metrics.Untrack(model);
            model.Draft?.Dispose();
            model.Engine.Dispose();
            lock (_gate)
            {
                _retiring.Remove(model);
                _footprints.Remove(model);
            }

            logger.LogInformation("Model {Model} ({Path}) released after draining", model.Name, model.Path);
        });
        lock (_gate)
        {
            _retirements.Add(task);
        }

        return task;
    }

    /// <summary>At shutdown (after the host drained its calls): stop every loop and free every engine.</summary>
    public async ValueTask DisposeAsync()
    {
        List<ServedModel> current;
        List<ServedModel> retiring;
        Task[] pending;
        lock (_gate)
        {
            current = [.. _models.Values];
            retiring = [.. _retiring];
            pending = [.. _retirements];
            _models.Clear();
            _default = null;
        }

        foreach (var model in current)
        {
            model.Scheduler.Dispose();
            metrics.Untrack(model);
            model.Draft?.Dispose();
            model.Engine.Dispose();
        }

        // Retiring models are released by their own retirement task once their loop stops.
        foreach (var model in retiring)
        {
            model.Scheduler.Dispose();
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }
}
