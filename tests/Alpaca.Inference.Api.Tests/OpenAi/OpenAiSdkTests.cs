using System.ClientModel;
using System.Text;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Llm.Prompts;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Alpaca.Inference.Api.Tests.OpenAi;

/// <summary>The official OpenAI .NET SDK as a real client of the OpenAI-compatible API on loopback.</summary>
public sealed class OpenAiSdkTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private OpenAIClientOptions Options => new() { Endpoint = new Uri(fixture.Server.Http, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(30) };

    private ChatClient Chat(string model = "tiny") => new(model, new ApiKeyCredential("not-needed"), Options);

    [Fact]
    public async Task Chat_completion_applies_the_alpaca_template_and_reports_usage()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0f };
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("Name three colors.")], options);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.Equal("tiny", completion.Model);

        // Same as the gRPC instruction path: the exact Alpaca no-input template.
        var grpc = await fixture.Server.Client.CompleteAsync(new CompleteRequest
        {
            Request = new GenerateRequest
            {
                Instruction = new AlpacaInstruction { Instruction = "Name three colors." },
                Sampling = new SamplingParameters { Temperature = 0 },
                Stopping = new StoppingCriteria { MaxTokens = 12, IgnoreEos = true },
            },
        });
        Assert.Equal(grpc.Text, completion.Content[0].Text);
        var templated = AlpacaPrompt.Build("Name three colors.");
        var promptTokens = (await fixture.Server.Client.TokenizeAsync(new TokenizeRequest { Text = templated })).Ids.Count;
        Assert.Equal(promptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(promptTokens + 12, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Chat_streaming_delivers_the_same_text_with_usage_at_the_end()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 20, Temperature = 0f };
        ChatCompletion whole = await Chat().CompleteChatAsync([new UserChatMessage("Tell a story.")], options);
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("Tell a story.")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates > 2, $"{updates} updates");
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Chat_honours_stop_seed_top_p_and_logprobs()
    {
        var free = (await Chat().CompleteChatAsync([new UserChatMessage("abc")], new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0f })).Value.Content[0].Text;
        Assert.True(free.Length >= 6, $"need text to pick a stop from: '{free}'");
        var stop = free.Substring(free.Length / 2, 2);
        var stopOptions = new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0f };
        stopOptions.StopSequences.Add(stop);
        ChatCompletion stopped = await Chat().CompleteChatAsync([new UserChatMessage("abc")], stopOptions);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], stopped.Content[0].Text);

#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK.
        ChatCompletionOptions Seeded(long seed) => new() { MaxOutputTokenCount = 16, Temperature = 1.3f, TopP = 0.9f, Seed = seed };
#pragma warning restore OPENAI001
        var a = (await Chat().CompleteChatAsync([new UserChatMessage("Say something.")], Seeded(11))).Value.Content[0].Text;
        var b = (await Chat().CompleteChatAsync([new UserChatMessage("Say something.")], Seeded(11))).Value.Content[0].Text;
        var c = (await Chat().CompleteChatAsync([new UserChatMessage("Say something.")], Seeded(12))).Value.Content[0].Text;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);

        var lp = new ChatCompletionOptions { MaxOutputTokenCount = 5, Temperature = 0f, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        ChatCompletion withLogprobs = await Chat().CompleteChatAsync([new UserChatMessage("x")], lp);
        Assert.Equal(5, withLogprobs.ContentTokenLogProbabilities.Count);
        Assert.All(withLogprobs.ContentTokenLogProbabilities, t =>
        {
            Assert.True(t.LogProbability <= 0);
            Assert.Equal(2, t.TopLogProbabilities.Count);
            Assert.Equal(t.LogProbability, t.TopLogProbabilities[0].LogProbability, 4);
        });
    }

    [Fact]
    public async Task Errors_have_the_openai_shape_and_status()
    {
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => Chat("no-such-model").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("no-such-model", unknown.Message, StringComparison.Ordinal);

        var hot = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = 150f }));
        Assert.Equal(400, hot.Status);
        Assert.Contains("temperature = 150 is out of range [0, 100]", hot.Message, StringComparison.Ordinal);

        var tooLong = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 5000 }));
        Assert.Equal(400, tooLong.Status);
        Assert.Contains("exceeds the context length of 512", tooLong.Message, StringComparison.Ordinal);

        // The raw body is OpenAI's error object.
        using var response = await fixture.Server.HttpClient.PostAsync("/v1/chat/completions", new StringContent("""{"model":"tiny","messages":[]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("messages", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Models_are_listed()
    {
        var models = await new OpenAIModelClient(new ApiKeyCredential("not-needed"), Options).GetModelsAsync();
        Assert.Contains(models.Value, m => m.Id == "tiny" && m.OwnedBy == "alpaca");
    }

    [Fact]
    public async Task Completions_work_whole_and_streamed()
    {
        // The SDK's legacy completions client is internal, so /v1/completions is called as plain JSON.
        using var whole = await fixture.Server.HttpClient.PostAsync("/v1/completions", new StringContent("""{"model":"tiny","prompt":"Once upon a time","max_tokens":10,"temperature":0,"logprobs":2,"ignore_eos":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)whole.StatusCode);
        using var json = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(10, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(10, choice.GetProperty("logprobs").GetProperty("token_logprobs").GetArrayLength());
        var text = choice.GetProperty("text").GetString();

        var grpc = await fixture.Server.Client.CompleteAsync(new CompleteRequest
        {
            Request = new GenerateRequest { Prompt = "Once upon a time", Sampling = new SamplingParameters { Temperature = 0 }, Stopping = new StoppingCriteria { MaxTokens = 10, IgnoreEos = true } },
        });
        Assert.Equal(grpc.Text, text);

        // SSE: data chunks, then [DONE].
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"model":"tiny","prompt":"Once upon a time","max_tokens":10,"temperature":0,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json"),
        };
        using var response = await fixture.Server.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith("data: ", l, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", lines[^1]);
        var chunks = lines[..^1].Select(l => JsonDocument.Parse(l["data: ".Length..])).ToList();
        var streamed = string.Concat(chunks.Where(c => c.RootElement.GetProperty("choices").GetArrayLength() > 0).Select(c => c.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(text, streamed);
        Assert.Equal(10, chunks[^1].RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        chunks.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task A_full_queue_is_HTTP_429_with_retry_after()
    {
        await using var server = await InferenceServer.StartAsync(TestModels.Long(), maxSequences: 1, maxQueue: 0);
        using var cts = new CancellationTokenSource();
        var client = new ChatClient("tiny", new ApiKeyCredential("not-needed"), new OpenAIClientOptions { Endpoint = new Uri(server.Http, "/v1") });
        // Greedy, so the running request is the same every time; a sampled one could draw EOS early and free the slot.
        var running = client.CompleteChatStreamingAsync([new UserChatMessage("go")], new ChatCompletionOptions { MaxOutputTokenCount = 1800, Temperature = 0f }, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await running.MoveNextAsync());

        using var response = await server.HttpClient.PostAsync("/v1/chat/completions", new StringContent("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(429, (int)response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("rate_limit_error", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await cts.CancelAsync();
        try
        {
            await running.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
        }
    }
}
