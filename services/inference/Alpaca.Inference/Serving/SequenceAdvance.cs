using System.Diagnostics;
using Alpaca.Tokenizers;

namespace Alpaca.Inference.Serving;

/// <summary>
/// One sequence's part of a step once the forward pass has given it logits: sample the next token
/// (EOS and stop ids masked until min_tokens), stream its text, and decide whether the sequence ends —
/// EOS or a stop token id, a stop sequence (possibly split over tokens; text that may begin one is held
/// back), max_tokens or a full context. Each sequence has its own sampler, detokenizer and stop watcher,
/// so rows of one step can advance in parallel.
/// </summary>
internal sealed class SequenceAdvance(ITextTokenizer tokenizer, int contextLength, ISchedulerObserver? observer)
{
    /// <summary>Samples one token and streams its text; returns a finish reason when the sequence ends.</summary>
    public SequenceFinishReason? Advance(Sequence s, ReadOnlySpan<float> logits)
    {
        var request = s.Request;
        var canStop = s.Generated >= request.MinTokens;
        if (!canStop)
        {
            // min_tokens: EOS and stop token ids cannot be drawn yet.
            var masked = s.Masked ??= new float[logits.Length];
            logits.CopyTo(masked);
            if (!request.IgnoreEos && tokenizer.EosId >= 0)
            {
                masked[tokenizer.EosId] = float.NegativeInfinity;
            }

            if (!request.IgnoreEos)
            {
                foreach (var id in request.EndTokenIds)
                {
                    masked[id] = float.NegativeInfinity;
                }
            }

            foreach (var id in request.StopTokenIds)
            {
                masked[id] = float.NegativeInfinity;
            }

            logits = masked;
        }

        var token = s.Sampler.Sample(logits, request.LogProbs, out var logProb);
        s.Sampler.Accept(token);
        s.Generated++;
        s.NextInput = token;
        s.Output.Add(token);

        var now = Stopwatch.GetTimestamp();
        if (s.Generated == 1)
        {
            observer?.FirstToken(Stopwatch.GetElapsedTime(s.SubmittedAt, now));
        }
        else
        {
            observer?.NextToken(Stopwatch.GetElapsedTime(s.LastTokenAt, now));
        }

        s.LastTokenAt = now;
        var piece = new SequenceToken(token, PieceText(token), tokenizer.IsSpecial(token), logProb);
        var ends = canStop && ((!request.IgnoreEos && (token == tokenizer.EosId || Contains(request.EndTokenIds, token))) || Contains(request.StopTokenIds, token));
        if (ends)
        {
            s.Events.Writer.TryWrite(new SequenceDelta(s.Stops.Push(s.Detokenizer.Flush(), canStop) + s.Stops.Flush(), [piece]));
            return SequenceFinishReason.EndOfSequence;
        }

        var text = s.Stops.Push(s.Detokenizer.Append(token), canStop);
        if (s.Stops.Matched is { } stop)
        {
            s.Events.Writer.TryWrite(new SequenceDelta(request.IncludeStopInOutput ? text + stop : text, [piece]));
            return SequenceFinishReason.StopSequence;
        }

        var full = s.Generated >= request.MaxTokens || s.Cached + 1 >= contextLength;
        if (full)
        {
            text += s.Stops.Push(s.Detokenizer.Flush(), canStop) + s.Stops.Flush();
            if (s.Stops.Matched is { } late)
            {
                s.Events.Writer.TryWrite(new SequenceDelta(request.IncludeStopInOutput ? text + late : text, [piece]));
                return SequenceFinishReason.StopSequence;
            }
        }

        s.Events.Writer.TryWrite(new SequenceDelta(text, [piece]));
        return full ? SequenceFinishReason.Length : null;
    }

    // Byte-fallback pieces (<0xE2>) stay as written; SentencePiece's word marker becomes a space.
    private string PieceText(int token) => tokenizer.TokenText(token).Replace('\u2581', ' ');

    private static bool Contains(IReadOnlyList<int> ids, int token)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == token)
            {
                return true;
            }
        }

        return false;
    }
}
