using System.Diagnostics;
using Alpaca.Inference.Prompts;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Inference.Serving.Speculative;

namespace Alpaca.Inference.Benchmarking;

/// <summary>Greedy generation with and without a draft: medians of the rates, the draft's acceptance and the tokens each target step yielded.</summary>
public sealed record SpeculativeResult(int Tokens, int DraftTokens, double PlainTokensPerSecond, double SpeculativeTokensPerSecond, double Acceptance, double TokensPerStep, bool SameOutput)
{
    public double Speedup => SpeculativeTokensPerSecond / PlainTokensPerSecond;
}

/// <summary>
/// <c>alpaca bench --draft FILE</c>: tg through the service's scheduler (one KV slot, greedy, EOS ignored, an
/// Alpaca-template prompt), without a draft and with one proposing k tokens per step, alternately, so both
/// see the same machine state. The rate is over the time from the first token to the last (the prompt is
/// not part of tg); the greedy tokens of both runs are compared, and must be the same.
/// </summary>
public static class SpeculativeBench
{
    private const string Instruction = "Give three tips for staying healthy.";

    public static SpeculativeResult Run(Engine target, Engine draft, int draftTokens, int tokens, int repetitions)
    {
        var options = new SchedulerOptions { Speculation = new SpeculationOptions { Draft = draft, Tokens = draftTokens } };

        // Two schedulers over one engine, used strictly one request at a time (the engine is not re-entrant).
        using var plain = new ContinuousBatchScheduler(target);
        using var speculative = new ContinuousBatchScheduler(target, options);
        var prompt = target.Tokenizer.Encode(PromptTemplates.Apply("alpaca", Instruction), target.Tokenizer.AddBosByDefault);
        var request = new SequenceRequest { PromptTokens = prompt, MaxTokens = tokens, IgnoreEos = true, Sampling = SamplingParams.Greedy };

        Generate(plain, request);
        Generate(speculative, request);
        var plainRates = new List<double>();
        var specRates = new List<double>();
        var same = true;
        long draftedBefore = speculative.DraftTokens, acceptedBefore = speculative.AcceptedDraftTokens, steps = 0, generated = 0;
        for (var r = 0; r < repetitions; r++)
        {
            var (a, ids) = Generate(plain, request);
            var before = speculative.Steps;
            var (b, specIds) = Generate(speculative, request);
            steps += speculative.Steps - before;
            generated += specIds.Count;
            plainRates.Add(a);
            specRates.Add(b);
            same &= ids.SequenceEqual(specIds);
        }

        var drafted = speculative.DraftTokens - draftedBefore;
        var accepted = speculative.AcceptedDraftTokens - acceptedBefore;
        return new SpeculativeResult(tokens, draftTokens, Median(plainRates), Median(specRates), drafted == 0 ? 0 : (double)accepted / drafted, steps == 0 ? 0 : (double)generated / steps, same);
    }

    // Tokens per second from the first token to the last, and the token ids.
    private static (double Rate, IReadOnlyList<int> Ids) Generate(ContinuousBatchScheduler scheduler, SequenceRequest request)
    {
        if (scheduler.TrySubmit(request, CancellationToken.None, out var handle) != SubmitOutcome.Accepted)
        {
            throw new InvalidOperationException("The benchmark's request was refused.");
        }

        long first = 0;
        var done = handle!.ReadToEndAsync(_ => first = first == 0 ? Stopwatch.GetTimestamp() : first).GetAwaiter().GetResult();
        var seconds = Stopwatch.GetElapsedTime(first).TotalSeconds;
        var ids = done.TokenIds.ToList();
        return ((ids.Count - 1) / seconds, ids);
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }
}
