using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Contracts.V1;
using Alpaca.Llm.Prompts;
using Grpc.Net.Client;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>Where the model's answers come from. Greedy decoding (temperature 0), so a rerun asks the same question the same way.</summary>
internal interface IAnswerSource
{
    string Describe { get; }

    Task<string> AnswerAsync(EvalItem item, CancellationToken cancellationToken);
}

/// <summary>
/// Our platform through the gateway's gRPC API: the instruction and input travel as such
/// (<c>GenerateRequest.instruction</c>), so the inference service applies the Alpaca prompt the model was
/// trained on, byte for byte.
/// </summary>
internal sealed class GatewayAnswers(GrpcChannel channel, string model, int maxTokens) : IAnswerSource
{
    private readonly InferenceService.InferenceServiceClient _client = new(channel);

    public string Describe => $"gateway {channel.Target}, model {model}";

    public async Task<string> AnswerAsync(EvalItem item, CancellationToken cancellationToken)
    {
        var response = await _client.CompleteAsync(new CompleteRequest
        {
            Request = new GenerateRequest
            {
                Model = model,
                Instruction = new AlpacaInstruction { Instruction = item.Instruction, Input = item.Input },
                Sampling = new SamplingParameters { Temperature = 0 },
                Stopping = new StoppingCriteria { MaxTokens = maxTokens },
            },
        }, cancellationToken: cancellationToken);
        return response.Text.Trim();
    }
}

/// <summary>
/// Any OpenAI-compatible server (vLLM, llama.cpp, OpenAI, our gateway's <c>/v1</c>): <c>/chat/completions</c>
/// with the instruction and input as one user message, or <c>/completions</c> with the Alpaca prompt.
/// 429 and 5xx are retried with back-off.
/// </summary>
internal sealed class OpenAiAnswers(OpenAiHttp http, string model, bool chat, int maxTokens) : IAnswerSource
{
    public string Describe => $"{http.BaseUrl} ({(chat ? "chat/completions" : "completions")}), model {model}";

    public Task<string> AnswerAsync(EvalItem item, CancellationToken cancellationToken) => chat
        ? http.ChatAsync(model, item.Input.Length > 0 ? item.Instruction + "\n\n" + item.Input : item.Instruction, maxTokens, cancellationToken)
        : http.CompleteAsync(model, AlpacaPrompt.Build(item.Instruction, item.Input), maxTokens, cancellationToken);
}

/// <summary>The two OpenAI calls the evaluation makes, over one HttpClient.</summary>
internal sealed class OpenAiHttp(Uri baseUrl, string? apiKey) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(5) };

    public Uri BaseUrl { get; } = new(baseUrl.ToString().TrimEnd('/') + "/");

    public async Task<string> ChatAsync(string model, string content, int maxTokens, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
            ["temperature"] = 0,
            ["max_tokens"] = maxTokens,
        };
        var reply = await PostAsync("chat/completions", body, cancellationToken);
        return (reply["choices"]?[0]?["message"]?["content"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{BaseUrl}chat/completions answered without choices[0].message.content.")).Trim();
    }

    public async Task<string> CompleteAsync(string model, string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["model"] = model, ["prompt"] = prompt, ["temperature"] = 0, ["max_tokens"] = maxTokens };
        var reply = await PostAsync("completions", body, cancellationToken);
        return (reply["choices"]?[0]?["text"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{BaseUrl}completions answered without choices[0].text.")).Trim();
    }

    private async Task<JsonNode> PostAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        var url = new Uri(BaseUrl, path);
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            if (apiKey is { Length: > 0 })
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            }

            using var response = await _http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return JsonNode.Parse(text) ?? throw new InvalidDataException($"{url} answered an empty body.");
            }

            var retry = response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
            if (!retry || attempt >= 4)
            {
                throw new HttpRequestException($"POST {url} answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 300)]}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 * (1 << attempt)), cancellationToken);
        }
    }

    public void Dispose() => _http.Dispose();
}
