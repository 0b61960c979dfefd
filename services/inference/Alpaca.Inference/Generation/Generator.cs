using System.Diagnostics;
using System.Text;
using Alpaca.Inference.Model;
using Alpaca.Inference.Sampling;
using Alpaca.Tokenizers;

namespace Alpaca.Inference.Generation;

/// <summary>
/// The simple generation loop behind <c>alpaca generate</c>: tokenize, process the prompt in one batch,
/// then decode one token at a time, streaming whole characters and honouring stop sequences, EOS,
/// MaxTokens and the context length. Uses one KV cache slot for the duration of a call.
/// </summary>
public sealed class Generator(Transformer model, ITextTokenizer tokenizer)
{
    public GenerationResult Generate(GenerationRequest request, Action<GenerationDelta>? onDelta = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MaxTokens < 0)
        {
            throw new ArgumentException($"MaxTokens must be ≥ 0, got {request.MaxTokens}.", nameof(request));
        }

        var prompt = tokenizer.Encode(request.Prompt, request.AddBos ?? tokenizer.AddBosByDefault);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt has no tokens (empty text and no BOS).", nameof(request));
        }

        var context = model.Cache.ContextLength;
        if (prompt.Count >= context)
        {
            throw new ArgumentException($"The prompt has {prompt.Count} tokens; the context holds {context}.", nameof(request));
        }

        var sampler = new Sampler(request.Sampling, model.VocabSize);
        sampler.Accept(prompt);
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        var stops = new StopSequenceMatcher(request.Stop);
        var text = new StringBuilder();
        var tokens = new List<int>();
        var logProbs = request.LogProbs ? new List<TokenLogProb>() : null;
        var slot = model.Cache.Allocate();
        try
        {
            var batch = new Batch(prompt.Count);
            batch.AddSequence(prompt.ToArray(), 0, slot);
            var clock = Stopwatch.StartNew();
            model.Forward(batch);
            var promptTime = clock.Elapsed;
            clock.Restart();

            var reason = FinishReason.Length;
            var position = prompt.Count;
            while (tokens.Count < request.MaxTokens)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    reason = FinishReason.Cancelled;
                    break;
                }

                var token = sampler.Sample(model.Logits(0), request.LogProbs, out var logProb);
                sampler.Accept(token);
                tokens.Add(token);
                if (logProb is not null)
                {
                    logProbs!.Add(logProb);
                }

                if (request.StopAtEos && token == tokenizer.EosId)
                {
                    reason = FinishReason.Stop;
                    onDelta?.Invoke(new GenerationDelta(token, string.Empty, logProb));
                    break;
                }

                var released = stops.Push(detokenizer.Append(token));
                text.Append(released);
                onDelta?.Invoke(new GenerationDelta(token, released, logProb));
                if (stops.Stopped)
                {
                    reason = FinishReason.Stop;
                    break;
                }

                if (tokens.Count == request.MaxTokens || position + 1 >= context)
                {
                    reason = FinishReason.Length;
                    break;
                }

                batch.Clear();
                batch.Add(token, position++, slot, logits: true);
                model.Forward(batch);
            }

            if (!stops.Stopped)
            {
                var tail = stops.Push(detokenizer.Flush()) + stops.Flush();
                if (tail.Length > 0)
                {
                    text.Append(tail);
                    onDelta?.Invoke(new GenerationDelta(-1, tail, null));
                }
            }

            return new GenerationResult
            {
                Text = text.ToString(),
                FinishReason = reason,
                PromptTokens = prompt.Count,
                CompletionTokens = tokens.Count,
                Tokens = tokens,
                LogProbs = logProbs,
                PromptTime = promptTime,
                GenerationTime = clock.Elapsed,
            };
        }
        finally
        {
            model.Cache.Free(slot);
        }
    }
}
