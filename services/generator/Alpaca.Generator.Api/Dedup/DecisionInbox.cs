using System.Collections.Concurrent;
using System.Text.Json;
using Alpaca.Generator.Dedup;
using Alpaca.State;

namespace Alpaca.Generator.Api.Dedup;

/// <summary>
/// The dedup decisions this service received (InstructionDecided events), per namespace, and the rounds
/// waiting for them. Every decision is appended to <c>generator/decisions/{namespace}</c> before its event is
/// acknowledged, because the dedup service publishes a decision under a stable event id
/// (<c>{namespace}/{candidate}</c>) that the messaging layer delivers to us only once: after a restart the
/// pending round's answers, and the kept records resubmitted to rebuild the namespace, are found here.
/// Replicas share one consumer group, so a decision may be handled by a replica that does not run the
/// namespace's run: it only appends it to the durable list (nothing kept in memory), and the replica holding
/// the run picks it up from there (<see cref="RefreshAsync"/>, polled while a round waits).
/// </summary>
public sealed class DecisionInbox(IStateStore state)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, Box> _boxes = new(StringComparer.Ordinal);

    /// <summary>One task per id, completed at once for ids already decided, else when the decision arrives.</summary>
    public async Task<Task<DedupVerdict>[]> ExpectAsync(string ns, IReadOnlyList<string> candidateIds, CancellationToken cancellationToken)
    {
        var box = await LoadedAsync(ns, cancellationToken).ConfigureAwait(false);
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return [.. candidateIds.Select(id => box.Decided.TryGetValue(id, out var verdict)
                ? Task.FromResult(verdict)
                : (box.Waiters.TryGetValue(id, out var waiter) ? waiter : box.Waiters[id] = new(TaskCreationOptions.RunContinuationsAsynchronously)).Task)];
        }
        finally
        {
            box.Lock.Release();
        }
    }

    /// <summary>Records a decision durably (once per candidate id) and wakes whoever waits for it.</summary>
    public async Task RecordAsync(string ns, DedupVerdict verdict, CancellationToken cancellationToken)
    {
        if (!_boxes.TryGetValue(ns, out var box))
        {
            // No run of this namespace waits here (it runs on another replica, or nowhere yet): record it for
            // whoever holds the run. A duplicate (a redelivery) is harmless: loading keeps the first per id.
            await state.AppendAsync(ListKey(ns), JsonSerializer.SerializeToUtf8Bytes(verdict, Json), cancellationToken).ConfigureAwait(false);
            return;
        }

        box = await LoadedAsync(ns, cancellationToken).ConfigureAwait(false);
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!box.Decided.TryGetValue(verdict.CandidateId, out var known))
            {
                await state.AppendAsync(ListKey(ns), JsonSerializer.SerializeToUtf8Bytes(verdict, Json), cancellationToken).ConfigureAwait(false);
                box.Decided[verdict.CandidateId] = known = verdict;
            }

            if (box.Waiters.Remove(verdict.CandidateId, out var waiter))
            {
                waiter.TrySetResult(known);
            }
        }
        finally
        {
            box.Lock.Release();
        }
    }

    /// <summary>
    /// Reads the decisions appended to the durable list since this replica last looked (by other replicas'
    /// handlers) and wakes the rounds waiting for them.
    /// </summary>
    public async Task RefreshAsync(string ns, CancellationToken cancellationToken)
    {
        if (!_boxes.TryGetValue(ns, out var box) || !box.Loaded)
        {
            return;
        }

        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var items = await state.ReadListAsync(ListKey(ns), box.ReadCount, cancellationToken: cancellationToken).ConfigureAwait(false);
            box.ReadCount += items.Count;
            foreach (var item in items)
            {
                var verdict = JsonSerializer.Deserialize<DedupVerdict>(item, Json)!;
                box.Decided.TryAdd(verdict.CandidateId, verdict);
                if (box.Waiters.Remove(verdict.CandidateId, out var waiter))
                {
                    waiter.TrySetResult(box.Decided[verdict.CandidateId]);
                }
            }
        }
        finally
        {
            box.Lock.Release();
        }
    }

    /// <summary>
    /// Drops a namespace from memory when its run stopped (a 52K run with extras holds tens of MB of decisions):
    /// waiters are cancelled, the decisions stay in the state store and are read again if the run resumes.
    /// </summary>
    public void Forget(string ns)
    {
        if (_boxes.TryRemove(ns, out var box))
        {
            box.Lock.Wait();
            try
            {
                foreach (var waiter in box.Waiters.Values)
                {
                    waiter.TrySetCanceled();
                }

                box.Waiters.Clear();
            }
            finally
            {
                box.Lock.Release();
            }
        }
    }

    private static string ListKey(string ns) => StateKey.Join("generator", "decisions", ns);

    private async Task<Box> LoadedAsync(string ns, CancellationToken cancellationToken)
    {
        var box = _boxes.GetOrAdd(ns, _ => new Box());
        if (box.Loaded)
        {
            return box;
        }

        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!box.Loaded)
            {
                var items = await state.ReadListAsync(ListKey(ns), cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var item in items)
                {
                    var verdict = JsonSerializer.Deserialize<DedupVerdict>(item, Json)!;
                    box.Decided.TryAdd(verdict.CandidateId, verdict);
                }

                // This replica's own appends are read again later by RefreshAsync; TryAdd makes that harmless.
                box.ReadCount = items.Count;

                box.Loaded = true;
            }
        }
        finally
        {
            box.Lock.Release();
        }

        return box;
    }

    private sealed class Box
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public Dictionary<string, DedupVerdict> Decided { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, TaskCompletionSource<DedupVerdict>> Waiters { get; } = new(StringComparer.Ordinal);

        public volatile bool Loaded;

        /// <summary>Items of the durable list already read into <see cref="Decided"/>.</summary>
        public long ReadCount;
    }
}
