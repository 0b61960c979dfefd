using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Serving;
using Alpaca.ServiceDefaults;
using Grpc.Core;

namespace Alpaca.Inference.Api.Grpc;

/// <summary>Contract messages ↔ the service's own types.</summary>
internal static class GrpcMapping
{
    public static GenerationSpec ToSpec(GenerateRequest r, DateTime deadline)
    {
        var s = r.Sampling ?? new SamplingParameters();
        var stop = r.Stopping ?? new StoppingCriteria();
        return new GenerationSpec
        {
            Model = r.Model,
            Prompt = r.InputCase == GenerateRequest.InputOneofCase.Prompt ? r.Prompt : null,
            Instruction = r.InputCase == GenerateRequest.InputOneofCase.Instruction ? r.Instruction.Instruction : null,
            Input = r.InputCase == GenerateRequest.InputOneofCase.Instruction ? r.Instruction.Input : null,
            // proto3: 0 means unset (the default, 256, shortened to the context).
            MaxTokens = stop.MaxTokens == 0 ? null : stop.MaxTokens,
            MinTokens = stop.MinTokens,
            Temperature = s.HasTemperature ? s.Temperature : null,
            TopK = s.TopK,
            TopP = s.HasTopP ? s.TopP : null,
            MinP = s.MinP,
            RepetitionPenalty = s.HasRepetitionPenalty ? s.RepetitionPenalty : null,
            FrequencyPenalty = s.FrequencyPenalty,
            PresencePenalty = s.PresencePenalty,
            Seed = s.HasSeed ? s.Seed : null,
            Stop = [.. stop.Stop],
            StopTokenIds = [.. stop.StopTokenIds],
            IgnoreEos = stop.IgnoreEos,
            IncludeStopInOutput = stop.IncludeStopStrInOutput,
            LogProbs = r.Logprobs?.Enabled ?? false,
            TopLogProbs = r.Logprobs?.TopLogprobs ?? 0,
            RequestId = r.RequestId,
            Deadline = deadline == DateTime.MaxValue ? null : deadline,
        };
    }

    public static GeneratedToken ToToken(SequenceToken t, Alpaca.Tokenizers.ITextTokenizer tokenizer)
    {
        var token = new GeneratedToken { Id = t.Id, Text = t.Piece, Special = t.Special };
        if (t.LogProb is { } lp)
        {
            token.Logprob = lp.LogProb;
            foreach (var alt in lp.Top)
            {
                token.TopLogprobs.Add(new TopLogprob { Id = alt.Token, Text = tokenizer.TokenText(alt.Token).Replace('\u2581', ' '), Logprob = alt.LogProb });
            }
        }

        return token;
    }

    public static GenerationResult ToResult(SequenceFinished f, string model) => new()
    {
        FinishReason = f.Reason switch
        {
            SequenceFinishReason.Length => FinishReason.Length,
            SequenceFinishReason.StopSequence => FinishReason.StopSequence,
            SequenceFinishReason.EndOfSequence => FinishReason.EosToken,
            _ => FinishReason.Cancelled,
        },
        Usage = new Usage { PromptTokens = f.PromptTokens, CompletionTokens = f.CompletionTokens, TotalTokens = f.PromptTokens + f.CompletionTokens },
        StopSequence = f.StopSequence ?? "",
        Seed = f.Seed,
        Model = model,
    };

    public static RpcException ToRpc(InferenceException e) => e.Kind switch
    {
        InferenceErrorKind.InvalidArgument => GrpcErrors.InvalidArgument(e.Message),
        InferenceErrorKind.NotFound => GrpcErrors.NotFound(e.Message),
        InferenceErrorKind.ResourceExhausted or InferenceErrorKind.QuotaExhausted => GrpcErrors.ResourceExhausted(e.Message, e.RetryAfter ?? TimeSpan.FromSeconds(1)),
        _ => GrpcErrors.FailedPrecondition(e.Message),
    };
}
