using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Alpaca.Dedup.Pool;
using Alpaca.State;

namespace Alpaca.Dedup.Api.Namespaces;

/// <summary>
/// Every namespace's pool, kept durably in the state store (Redis in the platform, a local folder
/// embedded) and in memory for speed. After a restart a namespace is rebuilt on first use from its seeds
/// and decision log, and decides exactly as before.
/// Keys: <c>dedup/ns/{name}/meta</c>, lists <c>dedup/ns/{name}/seeds</c> and <c>dedup/ns/{name}/decisions</c>.
/// </summary>
public sealed partial class DedupNamespaces(IStateStore store)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<NamespaceState?>>> _loaded = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _createLock = new(1, 1);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex NamePattern();

    public static string ValidateName(string name) =>
        NamePattern().IsMatch(name ?? "") && name is not "." and not ".."
            ? name!
            : throw new ArgumentException($"Invalid namespace '{name}': use 1-128 characters of [A-Za-z0-9._-].");

    private static string Key(string name, string part) => StateKey.Join("dedup", "ns", name, part);

    /// <summary>Creates a namespace; returns (state, created). Existing with the same seeds: not created; other seeds: error.</summary>
    public async Task<(NamespaceState State, bool Created)> CreateAsync(string name, IReadOnlyList<string> seeds, double threshold, CancellationToken ct)
    {
        ValidateName(name);
        var hash = SeedsHash(seeds);
        await _createLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (await GetAsync(name, ct).ConfigureAwait(false) is { } existing)
            {
                if (existing.Meta.SeedsSha256 != hash || existing.Meta.Threshold != threshold)
                {
                    throw new InvalidOperationException($"Namespace '{name}' already exists with other seeds or threshold.");
                }

                return (existing, false);
            }

            // Seeds first, meta last: a crash in between leaves no namespace, and creating again starts over.
            await store.DeleteAsync(Key(name, "seeds"), ct).ConfigureAwait(false);
            await store.DeleteAsync(Key(name, "decisions"), ct).ConfigureAwait(false);
            foreach (var seed in seeds)
            {
                await store.AppendAsync(Key(name, "seeds"), Encoding.UTF8.GetBytes(seed), ct).ConfigureAwait(false);
            }

            var meta = new NamespaceMeta(name, threshold, seeds.Count, hash, DateTimeOffset.UtcNow);
            await store.SetJsonAsync(Key(name, "meta"), meta, ct).ConfigureAwait(false);
            var state = new NamespaceState(meta, new DedupPool(seeds, threshold));
            _loaded[name] = new Lazy<Task<NamespaceState?>>(Task.FromResult<NamespaceState?>(state));
            return (state, true);
        }
        finally
        {
            _createLock.Release();
        }
    }

    /// <summary>The namespace, loading it from the store on first use; null when it does not exist.</summary>
    public async Task<NamespaceState?> GetAsync(string name, CancellationToken ct)
    {
        ValidateName(name);
        var lazy = _loaded.GetOrAdd(name, n => new Lazy<Task<NamespaceState?>>(() => LoadAsync(n)));
        var state = await lazy.Value.ConfigureAwait(false);
        if (state is null)
        {
            _loaded.TryRemove(new KeyValuePair<string, Lazy<Task<NamespaceState?>>>(name, lazy));
        }

        return state;
    }

    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken ct)
    {
        var keys = await store.ListKeysAsync("dedup/ns/", ct).ConfigureAwait(false);
        return keys.Where(k => k.EndsWith("/meta", StringComparison.Ordinal))
            .Select(k => k["dedup/ns/".Length..^"/meta".Length])
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct)
    {
        ValidateName(name);
        var existed = await store.DeleteAsync(Key(name, "meta"), ct).ConfigureAwait(false);
        await store.DeleteAsync(Key(name, "seeds"), ct).ConfigureAwait(false);
        await store.DeleteAsync(Key(name, "decisions"), ct).ConfigureAwait(false);
        _loaded.TryRemove(name, out _);
        return existed;
    }

    /// <summary>Decides candidates in order under the namespace's writer lock, logging each decision before answering.</summary>
    public async Task<List<(StoredDecision Decision, bool Replayed)>> SubmitAsync(NamespaceState state, IReadOnlyList<(string Id, string Instruction)> candidates, bool withExtras, CancellationToken ct)
    {
        var results = new List<(StoredDecision, bool)>(candidates.Count);
        await state.Lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var (id, instruction) in candidates)
            {
                if (state.Decisions.TryGetValue(id, out var earlier))
                {
                    results.Add((earlier, true));
                    continue;
                }

                var tokens = state.Pool.Tokenize(instruction);
                var decision = state.Pool.Check(instruction, withExtras);
                var position = decision.Kept ? state.Pool.Count : -1;
                var stored = new StoredDecision(
                    id,
                    instruction,
                    decision.Kept,
                    decision.MaxF,
                    decision.MostSimilar,
                    position,
                    decision.Extras?.MostSimilar.Select(s => new StoredSimilar(s.Position, s.Score)).ToList(),
                    decision.Extras?.AverageSimilarity);

                // Durable first: once the log has it, the decision and its insertion survive a crash.
                await store.AppendJsonAsync(Key(state.Meta.Name, "decisions"), stored, CancellationToken.None).ConfigureAwait(false);
                Apply(state, stored, tokens);
                results.Add((stored, false));
            }
        }
        finally
        {
            state.Lock.Release();
        }

        return results;
    }

    private static void Apply(NamespaceState state, StoredDecision decision, int[]? tokens = null)
    {
        if (decision.Kept)
        {
            if (tokens is null)
            {
                state.Pool.Add(decision.Instruction);
            }
            else
            {
                state.Pool.Add(decision.Instruction, tokens);
            }

            state.KeptCount++;
        }
        else
        {
            state.RejectedCount++;
        }

        state.Decisions[decision.CandidateId] = decision;
    }

    private async Task<NamespaceState?> LoadAsync(string name)
    {
        var meta = await store.GetJsonAsync<NamespaceMeta>(Key(name, "meta")).ConfigureAwait(false);
        if (meta is null)
        {
            return null;
        }

        var seeds = (await store.ReadListAsync(Key(name, "seeds")).ConfigureAwait(false)).Select(b => Encoding.UTF8.GetString(b)).ToList();
        var state = new NamespaceState(meta, new DedupPool(seeds, meta.Threshold));
        foreach (var decision in await store.ReadJsonListAsync<StoredDecision>(Key(name, "decisions")).ConfigureAwait(false))
        {
            Apply(state, decision);
        }

        return state;
    }

    private static string SeedsHash(IReadOnlyList<string> seeds) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0000', seeds))));
}
