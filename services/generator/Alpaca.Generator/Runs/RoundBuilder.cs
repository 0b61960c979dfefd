using Alpaca.Generator.Dedup;
using Alpaca.Generator.Parsing;
using Alpaca.Generator.Parsing.Cleaning;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Teacher;

namespace Alpaca.Generator.Runs;

/// <summary>
/// One round's pure part: the prompts it asks (a function of the run seed and the round number), and what
/// the replies give once parsed and filtered: candidates with stable ids <c>r{round}.p{prompt}.s{segment}</c>
/// and the round's counters.
/// </summary>
internal sealed class RoundBuilder
{
    private readonly SelfInstructRunSpec _spec;
    private readonly PromptTemplate _template;
    private readonly PromptSampler _sampler;
    private readonly ResponseParser _parser;
    private readonly TeacherApi _api;

    public RoundBuilder(SelfInstructRunSpec spec, TeacherApi api)
    {
        _spec = spec;
        _api = api;
        _template = PromptTemplate.FromText(spec.PromptText, spec.PromptSource);
        _sampler = new PromptSampler(spec.Seeds, spec.NumPromptInstructions, spec.Seed ?? 0);
        _parser = new ResponseParser(spec.NumPromptInstructions, spec.CleaningChecks ? CleaningChecks.All : null);
    }

    public IReadOnlyList<string> Prompts(long round) =>
        [.. Enumerable.Range(0, _spec.RequestBatchSize).Select(p => PromptEncoder.Encode(_template, _sampler.Sample(round, p)))];

    public PendingRound Parse(long round, TeacherBatch batch)
    {
        var delta = new RunCounters
        {
            Rounds = 1,
            PromptTokens = batch.Usage.PromptTokens,
            CompletionTokens = batch.Usage.CompletionTokens,
            TeacherRetries = batch.Retries,
            ContextShrinks = batch.ContextShrinks,
        };
        var candidates = new List<CandidateInstruction>();
        for (var p = 0; p < batch.Completions.Count; p++)
        {
            var completion = batch.Completions[p];
            if (completion.Garbage is not null || completion.Text is null)
            {
                delta.GarbageReplies++;
                continue;
            }

            var text = _api == TeacherApi.ChatCompletions
                ? ChatReply.StripEchoedHeader(completion.Text, _spec.NumPromptInstructions + 1)
                : completion.Text;
            foreach (var item in _parser.Parse(text, completion.FinishReason))
            {
                delta.Generated++;
                foreach (var fix in item.Cleaned)
                {
                    delta.Clean(fix);
                }

                if (item.Rejection is { } reason)
                {
                    delta.Reject(reason.Key());
                    continue;
                }

                candidates.Add(new CandidateInstruction($"r{round}.p{p}.s{item.Segment}", item.Instruction, item.Input, item.Output));
            }
        }

        return new PendingRound(round, candidates, delta);
    }
}
