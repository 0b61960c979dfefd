using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Prompts;
using Alpaca.TestSupport;
using Grpc.Core;
using OpenAI;
using OpenAI.Chat;

namespace Alpaca.Inference.Api.Tests.OpenAi;

/// <summary>A server with a ChatML model (its own template), an Alpaca model (none) and one whose template does not parse.</summary>
public sealed class ChatTemplateFixture : IAsyncLifetime
{
    public InferenceServer Server { get; private set; } = null!;

    public string ChatMlPath { get; } = TestModels.Chat();

    public async Task InitializeAsync()
    {
        Server = await InferenceServer.StartAsync(ChatMlPath, modelName: "chatml");
        await Server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "tiny" });
        await Server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Chat("{% for m in messages %}{{ m.content }", "broken"), Name = "broken" });
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// /v1/chat/completions prompts each model in its own chat template (tokenizer.chat_template), rendered as
/// @huggingface/jinja renders it and tokenized with its special tokens, with one BOS; our fine-tunes and
/// template-less models get the Alpaca template; a template is chosen per model and per request.
/// </summary>
public sealed class ChatTemplateTests(ChatTemplateFixture fixture) : IClassFixture<ChatTemplateFixture>
{
    private InferenceServer Server => fixture.Server;

    [Fact]
    public async Task The_openai_sdk_chats_in_the_model_own_template_with_one_bos()
    {
        var client = new ChatClient("chatml", new ApiKeyCredential("not-needed"), new OpenAIClientOptions { Endpoint = new Uri(Server.Http, "/v1") });
        ChatCompletion completion = await client.CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Name a color.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 10, Temperature = 0f });

        // The prompt as transformers.js renders the template (bos_token "<s>"), tokenized with its special tokens.
        var rendered = Oracle(TestModels.ChatMlTemplate, new JsonArray(Msg("system", "You are terse."), Msg("user", "Name a color.")));
        Assert.Equal("<s><|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n", rendered);
        using var engine = Engine.Load(fixture.ChatMlPath);
        var tokenizer = engine.Tokenizer;
        var tokens = tokenizer.Encode(rendered, addBos: false, parseSpecial: true);
        Assert.Equal(tokenizer.BosId, tokens[0]);
        Assert.DoesNotContain(tokenizer.BosId, tokens.Skip(1));
        Assert.Equal(3, tokens.Count(t => tokenizer.TokenText(t) == "<|im_start|>"));
        Assert.Equal(tokens.Count, completion.Usage.InputTokenCount);

        // The answer is the greedy continuation of exactly those tokens, ended by <|im_end|> like EOS.
        var direct = await DirectGeneration.RunAsync(engine, new SequenceRequest
        {
            PromptTokens = tokens,
            MaxTokens = 10,
            Sampling = SamplingParams.Greedy,
            EndTokenIds = [tokenizer.VocabSize - 1],
        });
        Assert.Equal(direct.Text, completion.Content[0].Text);
    }

    [Fact]
    public async Task A_template_per_request_overrides_the_model_one_and_gets_the_vocabulary_bos_when_it_writes_none()
    {
        using var engine = Engine.Load(fixture.ChatMlPath);
        var tokenizer = engine.Tokenizer;

        var (status, body) = await Chat("""{"model":"chatml","messages":[{"role":"user","content":"Name a color."}],"max_tokens":2,"chat_template":"{% for m in messages %}[{{ m.content }}]{% endfor %}"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1 + tokenizer.Encode("[Name a color.]", addBos: false, parseSpecial: true).Count, PromptTokens(body));

        (status, body) = await Chat("""{"model":"chatml","messages":[{"role":"user","content":"Name a color."}],"max_tokens":2,"chat_template":"alpaca"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(tokenizer.Encode(AlpacaPrompt.Build("Name a color."), tokenizer.AddBosByDefault).Count, PromptTokens(body));

        // Variables for the template (vLLM's chat_template_kwargs).
        (status, body) = await Chat("""{"model":"chatml","messages":[{"role":"user","content":"x"}],"max_tokens":2,"chat_template":"{{ lang }}:{{ messages[0].content }}","chat_template_kwargs":{"lang":"fr"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1 + tokenizer.Encode("fr:x", addBos: false).Count, PromptTokens(body));
    }

    [Fact]
    public async Task A_model_without_a_template_keeps_the_alpaca_prompt()
    {
        var (status, body) = await Chat("""{"model":"tiny","messages":[{"role":"user","content":"Name a color."}],"max_tokens":2}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var count = (await Server.Client.TokenizeAsync(new TokenizeRequest { Model = "tiny", Text = AlpacaPrompt.Build("Name a color.") })).Ids.Count;
        Assert.Equal(count, PromptTokens(body));
    }

    [Fact]
    public async Task Raise_exception_in_a_template_is_a_400_with_its_message()
    {
        var (status, body) = await Chat("""{"model":"chatml","messages":[{"role":"user","content":"x"}],"chat_template":"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant') }}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Contains("Conversation roles must alternate user/assistant/user/assistant", (string?)error["message"], StringComparison.Ordinal);

        (status, body) = await Chat("""{"model":"chatml","messages":[{"role":"user","content":"x"}],"chat_template":"{% if %}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not parse", body, StringComparison.Ordinal);

        (status, body) = await Chat("""{"model":"chatml","messages":[{"role":"user","content":"x"}],"chat_template_kwargs":[1]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("chat_template_kwargs", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_whose_template_does_not_parse_serves_completions_and_says_why_chat_fails()
    {
        var (status, body) = await Chat("""{"model":"broken","messages":[{"role":"user","content":"x"}],"max_tokens":2}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("tokenizer.chat_template", body, StringComparison.Ordinal);

        (status, _) = await Chat("""{"model":"broken","messages":[{"role":"user","content":"x"}],"max_tokens":2,"chat_template":"alpaca"}""");
        Assert.Equal(HttpStatusCode.OK, status);

        using var completion = await Server.HttpClient.PostAsync("/v1/completions", new StringContent("""{"model":"broken","prompt":"x","max_tokens":2}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
    }

    [Fact]
    public async Task The_chat_format_is_chosen_at_load_and_listed()
    {
        var models = (await Server.Client.ListModelsAsync(new ListModelsRequest())).Models.ToDictionary(m => m.Name);
        Assert.Equal("model", models["chatml"].ChatTemplate);
        Assert.Equal("alpaca", models["tiny"].ChatTemplate);

        var loaded = await Server.Client.LoadModelAsync(new LoadModelRequest { Path = fixture.ChatMlPath, Name = "chatml-as-alpaca", ChatTemplate = "alpaca" });
        Assert.Equal("alpaca", loaded.Info.ChatTemplate);
        var custom = await Server.Client.LoadModelAsync(new LoadModelRequest { Path = fixture.ChatMlPath, Name = "chatml-custom", ChatTemplate = "{{ messages[-1].content }}" });
        Assert.Equal("custom", custom.Info.ChatTemplate);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Server.Client.LoadModelAsync(new LoadModelRequest { Path = fixture.ChatMlPath, Name = "bad", ChatTemplate = "{% for %}" }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("does not parse", error.Status.Detail, StringComparison.Ordinal);

        await Server.Client.UnloadModelAsync(new UnloadModelRequest { Model = "chatml-as-alpaca" });
        await Server.Client.UnloadModelAsync(new UnloadModelRequest { Model = "chatml-custom" });
    }

    private async Task<(HttpStatusCode Status, string Body)> Chat(string json)
    {
        using var response = await Server.HttpClient.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static int PromptTokens(string body) => JsonDocument.Parse(body).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();

    private static JsonObject Msg(string role, string content) => new() { ["role"] = role, ["content"] = content };

    private static string Oracle(string template, JsonArray messages)
    {
        var request = new JsonObject
        {
            ["cases"] = new JsonArray(new JsonObject
            {
                ["template"] = template,
                ["context"] = new JsonObject { ["messages"] = messages, ["add_generation_prompt"] = true, ["bos_token"] = "<s>", ["eos_token"] = "</s>" },
            }),
        };
        return (string)NodeScripts.Jinja(request)["results"]![0]!["output"]!;
    }
}
