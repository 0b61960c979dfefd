using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Inference.Serving;
using Alpaca.Tokenizers;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>The JSON of one response, whole or as stream chunks, in OpenAI's completion or chat shape.</summary>
internal sealed class ResponseShape(bool chat, string model, ITextTokenizer tokenizer)
{
    private readonly string _id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private int _textOffset;

    public bool Chat => chat;

    public JsonObject Full(string text, IReadOnlyList<SequenceToken> tokens, int promptTokens, SequenceFinished finished, bool logprobs)
    {
        var choice = new JsonObject { ["index"] = 0 };
        if (chat)
        {
            choice["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text };
        }
        else
        {
            choice["text"] = text;
        }

        choice["logprobs"] = logprobs ? LogProbs(tokens) : null;
        choice["finish_reason"] = FinishReason(finished.Reason);
        var response = Envelope(chat ? "chat.completion" : "text_completion");
        response["choices"] = new JsonArray(choice);
        response["usage"] = Usage(finished);
        return response;
    }

    /// <summary>The first chat chunk announces the assistant role, as OpenAI's does.</summary>
    public JsonObject ChatRoleChunk()
    {
        var chunk = Envelope("chat.completion.chunk");
        chunk["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["role"] = "assistant", ["content"] = "" }, ["logprobs"] = null, ["finish_reason"] = null });
        return chunk;
    }

    public JsonObject Chunk(string text, IReadOnlyList<SequenceToken> tokens, SequenceFinished? finished, bool logprobs)
    {
        var choice = new JsonObject { ["index"] = 0 };
        if (chat)
        {
            choice["delta"] = finished is null ? new JsonObject { ["content"] = text } : new JsonObject();
        }
        else
        {
            choice["text"] = text;
        }

        choice["logprobs"] = logprobs ? LogProbs(tokens) : null;
        choice["finish_reason"] = finished is null ? null : FinishReason(finished.Reason);
        var chunk = Envelope(chat ? "chat.completion.chunk" : "text_completion");
        chunk["choices"] = new JsonArray(choice);
        return chunk;
    }

    /// <summary><c>stream_options.include_usage</c>: a last chunk with no choices and the usage.</summary>
    public JsonObject UsageChunk(SequenceFinished finished)
    {
        var chunk = Envelope(chat ? "chat.completion.chunk" : "text_completion");
        chunk["choices"] = new JsonArray();
        chunk["usage"] = Usage(finished);
        return chunk;
    }

    private JsonObject Envelope(string type) => new()
    {
        ["id"] = _id,
        ["object"] = type,
        ["created"] = _created,
        ["model"] = model,
    };

    private static JsonObject Usage(SequenceFinished f) => new()
    {
        ["prompt_tokens"] = f.PromptTokens,
        ["completion_tokens"] = f.CompletionTokens,
        ["total_tokens"] = f.PromptTokens + f.CompletionTokens,
    };

    // OpenAI has two finish reasons for text: "stop" (EOS or a stop sequence) and "length".
    private static string FinishReason(SequenceFinishReason reason) => reason == SequenceFinishReason.Length ? "length" : "stop";

    private JsonObject LogProbs(IReadOnlyList<SequenceToken> tokens)
    {
        if (chat)
        {
            var content = new JsonArray();
            foreach (var t in tokens)
            {
                var top = new JsonArray();
                foreach (var alt in t.LogProb?.Top ?? [])
                {
                    var piece = Piece(alt.Token);
                    top.Add(new JsonObject { ["token"] = piece, ["logprob"] = alt.LogProb, ["bytes"] = Bytes(piece) });
                }

                content.Add(new JsonObject { ["token"] = t.Piece, ["logprob"] = t.LogProb?.LogProb ?? 0, ["bytes"] = Bytes(t.Piece), ["top_logprobs"] = top });
            }

            return new JsonObject { ["content"] = content };
        }

        var pieces = new JsonArray();
        var values = new JsonArray();
        var tops = new JsonArray();
        var offsets = new JsonArray();
        foreach (var t in tokens)
        {
            pieces.Add(t.Piece);
            values.Add(t.LogProb?.LogProb ?? 0);
            var top = new JsonObject();
            foreach (var alt in t.LogProb?.Top ?? [])
            {
                top[Piece(alt.Token)] = alt.LogProb;
            }

            tops.Add(top);
            offsets.Add(_textOffset);
            _textOffset += t.Piece.Length;
        }

        return new JsonObject { ["tokens"] = pieces, ["token_logprobs"] = values, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }

    private string Piece(int token) => tokenizer.TokenText(token).Replace('\u2581', ' ');

    private static JsonArray Bytes(string piece) => new(Encoding.UTF8.GetBytes(piece).Select(b => (JsonNode?)(int)b).ToArray());
}
