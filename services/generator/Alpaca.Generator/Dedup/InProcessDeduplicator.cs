using System.Collections.Concurrent;
using Alpaca.Dedup.Pool;

namespace Alpaca.Generator.Dedup;

/// <summary>
/// The dedup engine (<see cref="DedupPool"/>, exact rouge_score ROUGE-L) in this process: one pool per
/// namespace, decisions remembered by candidate id so resubmissions are idempotent. Memory only: after a
/// restart <see cref="Runs.GenerationRun"/> rebuilds the pool by resubmitting its kept records in order.
/// </summary>
public sealed class InProcessDeduplicator : IInstructionDeduplicator
{
    private readonly ConcurrentDictionary<string, Namespace> _namespaces = new(StringComparer.Ordinal);
    private readonly double _threshold;

    public InProcessDeduplicator(double threshold = DedupPool.DefaultThreshold) => _threshold = threshold;

    public Task EnsureNamespaceAsync(string runNamespace, IReadOnlyList<string> seedInstructions, CancellationToken cancellationToken = default)
    {
        _namespaces.GetOrAdd(runNamespace, _ => new Namespace(new DedupPool(seedInstructions, _threshold)));
        return Task.CompletedTask;
    }

    public Task<DedupVerdict[]> SubmitAsync(string runNamespace, IReadOnlyList<CandidateInstruction> candidates, bool withExtras, CancellationToken cancellationToken = default)
    {
        if (!_namespaces.TryGetValue(runNamespace, out var ns))
        {
            throw new InvalidOperationException($"Dedup namespace '{runNamespace}' does not exist; call EnsureNamespaceAsync first.");
        }

        var verdicts = new DedupVerdict[candidates.Count];
        lock (ns)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                var candidate = candidates[i];
                if (!ns.Decided.TryGetValue(candidate.CandidateId, out var verdict))
                {
                    verdict = ToVerdict(candidate.CandidateId, ns.Pool, ns.Pool.Submit(candidate.Instruction, withExtras));
                    ns.Decided[candidate.CandidateId] = verdict;
                }

                verdicts[i] = verdict;
            }
        }

        return Task.FromResult(verdicts);
    }

    private static DedupVerdict ToVerdict(string id, DedupPool pool, DedupDecision decision) => new(
        id,
        decision.Kept,
        decision.MaxF,
        decision.MostSimilar >= 0 ? pool[decision.MostSimilar] : null,
        decision.Extras?.MostSimilar.Select(s => new ScoredInstruction(s.Instruction, s.Score)).ToList(),
        decision.Extras?.AverageSimilarity);

    private sealed record Namespace(DedupPool Pool)
    {
        public Dictionary<string, DedupVerdict> Decided { get; } = new(StringComparer.Ordinal);
    }
}
