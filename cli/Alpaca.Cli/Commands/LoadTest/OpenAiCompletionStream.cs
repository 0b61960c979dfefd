using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Cli.Commands.LoadTest;

/// <summary>
/// One streaming OpenAI <c>POST /v1/completions</c> as load-test deltas, so the same client drives our
/// service and any OpenAI-compatible server (llama.cpp's). Each SSE chunk with text counts as one token
/// (servers stream a token per chunk); the final usage chunk (<c>stream_options.include_usage</c>) corrects
/// the total to the server's <c>completion_tokens</c>.
/// </summary>
public sealed class OpenAiCompletionStream(HttpClient http, Uri baseAddress)
{
    public async IAsyncEnumerable<StreamDelta> RunAsync(JsonObject body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, "v1/completions")) { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"{(int)response.StatusCode}: {text}", null, response.StatusCode);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var chunks = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]")
            {
                continue;
            }

            using var json = JsonDocument.Parse(line.AsMemory(6));
            if (json.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("completion_tokens", out var completion) && completion.GetInt32() > chunks)
            {
                yield return new StreamDelta(completion.GetInt32() - chunks, Timed: false);
            }

            if (json.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                var count = choice.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object && lp.TryGetProperty("tokens", out var list)
                    ? list.GetArrayLength()
                    : choice.TryGetProperty("text", out var t) && t.GetString() is { Length: > 0 } ? 1 : 0;
                if (count > 0)
                {
                    chunks += count;
                    yield return new StreamDelta(count);
                }
            }
        }
    }
}
