using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Alpaca.TestSupport;
using OpenAI;
using OpenAI.Chat;
using static Alpaca.Inference.Api.Tests.Limits.LimitsServerFixture;

namespace Alpaca.Inference.Api.Tests.Limits;

/// <summary>
/// The OpenAI front door's limits and its field allow-list, through the official OpenAI .NET SDK where it can
/// send the field, and plain JSON over real HTTP otherwise: a 400 (413 for bodies) in OpenAI's error shape.
/// </summary>
public sealed class OpenAiInputLimitsTests(LimitsServerFixture fixture) : IClassFixture<LimitsServerFixture>
{
    private ChatClient Chat => new("tiny", new ApiKeyCredential("not-needed"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.Http, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(60) });

    private static ChatCompletionOptions Short => new() { MaxOutputTokenCount = 2, Temperature = 0f };

    private async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(string path, string json)
    {
        using var response = await fixture.Server.HttpClient.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        return (response.StatusCode, doc.RootElement.TryGetProperty("error", out var e) ? e.Clone() : default);
    }

    [Fact]
    public async Task Response_format_other_than_text_is_refused_and_text_is_accepted()
    {
        var options = Short;
        options.ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat();
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("Name a color.")], options));
        Assert.Equal(400, e.Status);
        Assert.Contains("'response_format' is not supported: only {\"type\": \"text\"}", e.Message, StringComparison.Ordinal);

        options.ResponseFormat = ChatResponseFormat.CreateTextFormat();
        ChatCompletion ok = await Chat.CompleteChatAsync([new UserChatMessage("Name a color.")], options);
        Assert.Equal(2, ok.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Tools_and_logit_bias_from_the_sdk_are_refused()
    {
        var tools = Short;
        tools.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather of a city"));
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("Weather?")], tools));
        Assert.Equal(400, e.Status);
        Assert.Contains("'tools' (function calling) is not supported.", e.Message, StringComparison.Ordinal);

        var bias = Short;
        bias.LogitBiases.Add(5, -100);
        e = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("hi")], bias));
        Assert.Equal(400, e.Status);
        Assert.Contains("'logit_bias' is not supported.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bookkeeping_fields_the_sdk_sends_are_accepted()
    {
        var options = Short;
        options.StoredOutputEnabled = false;
        options.Metadata.Add("team", "search");
        options.EndUserId = "user-1";
        ChatCompletion ok = await Chat.CompleteChatAsync([new UserChatMessage("hi")], options);
        Assert.Equal(2, ok.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"frobnicate":true}""", "frobnicate")]
    [InlineData("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"tool_choice":"required"}""", "tool_choice")]
    [InlineData("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"functions":[{"name":"f"}]}""", "functions")]
    [InlineData("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"modalities":["text","audio"]}""", "modalities")]
    [InlineData("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"audio":{"voice":"alloy"}}""", "audio")]
    [InlineData("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"n":2}""", "n")]
    [InlineData("/v1/completions", """{"model":"tiny","prompt":"hi","max_tokens":2,"messages":[]}""", "messages")]
    [InlineData("/v1/completions", """{"model":"tiny","prompt":"hi","max_tokens":2,"response_format":{"type":"json_object"}}""", "response_format")]
    public async Task Fields_that_would_change_the_answer_are_a_400_naming_them(string path, string json, string field)
    {
        var (status, error) = await PostAsync(path, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains($"'{field}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"response_format":{"type":"text"},"tool_choice":"none","tools":[],"n":1,"logit_bias":{},"modalities":["text"],"parallel_tool_calls":false}""")]
    public async Task No_op_values_of_those_fields_are_accepted(string json)
    {
        using var response = await fixture.Server.HttpClient.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_multi_megabyte_prompt_is_refused_before_tokenizing_and_one_at_the_cap_is_served()
    {
        var huge = new string('x', 4 * 1024 * 1024);
        var (status, error) = await PostAsync("/v1/completions", JsonSerializer.Serialize(new { model = "tiny", prompt = huge, max_tokens = 2 }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("prompt", error.GetProperty("param").GetString());
        Assert.Equal($"prompt has {huge.Length} characters; at most {PromptChars} are accepted (checked before tokenizing).", error.GetProperty("message").GetString());

        var chat = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage(huge)], Short));
        Assert.Equal(400, chat.Status);
        Assert.Contains($"have {huge.Length} characters together; at most {PromptChars}", chat.Message, StringComparison.Ordinal);

        using var ok = await fixture.Server.HttpClient.PostAsync("/v1/completions", new StringContent(JsonSerializer.Serialize(new { model = "tiny", prompt = new string('a', PromptChars), max_tokens = 2 }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Max_tokens_and_stops_are_capped()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens + 1 }));
        Assert.Equal(400, e.Status);
        Assert.Contains($"max_tokens = {MaxTokens + 1} exceeds this server's limit of {MaxTokens}", e.Message, StringComparison.Ordinal);

        var stops = new ChatCompletionOptions { MaxOutputTokenCount = 2 };
        foreach (var i in Enumerable.Range(0, Stops + 1))
        {
            stops.StopSequences.Add($"zz{i}");
        }

        e = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("hi")], stops));
        Assert.Equal(400, e.Status);
        Assert.Contains($"stop has {Stops + 1} sequences; at most {Stops} are allowed.", e.Message, StringComparison.Ordinal);

        var (status, error) = await PostAsync("/v1/completions", $$"""{"model":"tiny","prompt":"hi","max_tokens":2,"stop_token_ids":[1,2,3,4]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("stop_token_ids", error.GetProperty("param").GetString());

        var (userStatus, userError) = await PostAsync("/v1/completions", JsonSerializer.Serialize(new { model = "tiny", prompt = "hi", max_tokens = 2, user = new string('u', RequestIdChars + 1) }));
        Assert.Equal(HttpStatusCode.BadRequest, userStatus);
        Assert.Equal($"user has {RequestIdChars + 1} characters; at most {RequestIdChars} are allowed.", userError.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_limit_is_413_in_the_openai_shape_declared_or_chunked(bool chunked)
    {
        var (status, body) = await OversizedBody.PostAsync(fixture.Server.Http, "/v1/chat/completions", TransportBytes, chunked);
        Assert.Equal(413, status);
        using var error = JsonDocument.Parse(body);
        Assert.Equal("request_too_large", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal($"The request body exceeds this server's limit of {TransportBytes} bytes (Alpaca:Limits:MaxRequestBodySize).", error.RootElement.GetProperty("error").GetProperty("message").GetString());
    }
}
