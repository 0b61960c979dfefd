using System.ClientModel;
using System.Security.Cryptography;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Hub;
using OpenAI;
using OpenAI.Chat;

namespace Alpaca.Inference.Api.Tests.Cli;

/// <summary>
/// The path a user takes with a real download, end to end: <c>alpaca pull org/repo:Q4_K_M</c> (the built CLI, a child
/// process) from a loopback Hub that also holds a Q8_0 and a Q4_K_S of the same model → the inference host serves the
/// snapshot file → the OpenAI SDK chats through <c>/v1/chat/completions</c>, which prompts it in its own ChatML template
/// and stops at its end-of-turn token, exactly as the CPU engine run directly on that file does.
/// </summary>
public sealed class PullServeChatTests : IAsyncLifetime
{
    private const string Repo = "alpaca-tests/TinyChat-256-GGUF";

    private const string PulledFile = "tinychat-256.q4_k_m.gguf";
    private const int MaxTokens = 48;

    // Random weights never learned to end a turn, but greedy decoding keeps returning to a few ids: <|im_end|> takes
    // one of them (a "?" piece), so the replies below end at the end-of-turn token after a few tokens, as a chat
    // model's do, and a server that did not stop there would run on to max_tokens.
    private const int ImEnd = 342;

    // Conversations tried in order; the first reply that ends at <|im_end|> is the one checked. On this machine (AVX2)
    // it is the first, four tokens long; the others stand by for a kernel path whose rounding moves one argmax.
    private static readonly (string System, string User)[] Conversations =
    [
        ("You are a helpful assistant.", "Tell me a joke."),
        ("You are terse.", "Tell me a joke."),
        ("You are a helpful assistant.", "Name a color."),
        ("You are terse.", "Hi!"),
    ];

    private readonly HubServer _hub = new();
    private readonly TempDir _dir = new("pull-serve-chat");
    private byte[] _q4km = [];
    private string _commit = "";

    public Task InitializeAsync()
    {
        // dim 256 / FFN 512: every row is whole 256-weight super-blocks, so the Q4_K_M mixture (Q4_K, Q6_K for
        // output/attn_v/ffn_down of the use_more_bits layers) applies to every matrix, as llama-quantize writes it.
        var config = TinyModelFactory.Tiny(dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, context: 512);
        var spec = new TinyModelSpec
        {
            Config = config,
            RandomNorms = true,
            Seed = 13,
            InitStd = 0.05f,
            Name = "tinychat",
            Vocabulary = TestModels.ChatMlVocabulary(config.VocabSize, imEndId: ImEnd),
        };
        var q4 = _dir.File("q4_k_m.gguf");
        var q8 = _dir.File("q8_0.gguf");
        TinyModelFactory.WriteGguf(q4, spec, WeightRecipe.Parse("q4_k_m"));
        TinyModelFactory.WriteGguf(q8, spec, GgmlType.Q8_0);
        _q4km = File.ReadAllBytes(q4);

        var q4s = _dir.File("q4_k_s.gguf");
        TinyModelFactory.WriteGguf(q4s, spec, WeightRecipe.Parse("q4_k"));

        // The Hub lists them Q8_0, q4_k_m, q4_k_s (ordinal): the pick is neither the first nor the last, matches the
        // reference's "Q4_K_M" case-insensitively, and is not "Q4_K" (a prefix of both K files).
        _commit = _hub.AddRepo(Repo, new Dictionary<string, byte[]>
        {
            ["README.md"] = "# TinyChat\n"u8.ToArray(),
            ["tinychat-256.Q8_0.gguf"] = File.ReadAllBytes(q8),
            [PulledFile] = _q4km,
            ["tinychat-256.q4_k_s.gguf"] = File.ReadAllBytes(q4s),
        });
        return Task.CompletedTask;
    }

    // As the model's ChatML template renders (system, user) with add_generation_prompt and bos_token "<s>" (plain text).
    private static string Render(string system, string user) =>
        "<s><|im_start|>system\n" + system + "<|im_end|>\n<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Pull_a_q4_k_m_from_the_hub_serve_it_and_chat_in_its_own_template_to_its_end_of_turn()
    {
        var hfHome = Path.Combine(_dir.Path, "hf");
        var (code, stdout, stderr) = await Task.Run(() => AlpacaCli.Run(
            new Dictionary<string, string?>
            {
                ["HF_ENDPOINT"] = _hub.Endpoint,
                ["HF_HOME"] = hfHome,
                ["HF_HUB_CACHE"] = null,
                ["HF_TOKEN"] = null,
                ["HUGGING_FACE_HUB_TOKEN"] = null,
            },
            "pull", Repo + ":Q4_K_M"));
        Assert.True(code == 0, $"alpaca pull exited {code}: {stderr}");

        // The snapshot file in huggingface_hub's layout, a link to the blob named by the SHA-256 the Hub reported.
        var sha = HubServer.Sha256(_q4km);
        var repoFolder = Path.Combine(hfHome, "hub", "models--alpaca-tests--TinyChat-256-GGUF");
        var path = stdout.Trim();
        Assert.Equal(Path.Combine(repoFolder, "snapshots", _commit, PulledFile), path);
        Assert.Equal(Path.Combine("..", "..", "blobs", sha), new FileInfo(path).LinkTarget);
        var blob = Path.Combine(repoFolder, "blobs", sha);
        await using (var stream = File.OpenRead(blob))
        {
            Assert.Equal(sha, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
        }

        Assert.Equal(_commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
        Assert.Single(Directory.GetFiles(Path.Combine(repoFolder, "blobs")));
        Assert.Equal(1, _hub.Count("cdn", "GET"));

        await using var server = await InferenceServer.StartAsync(path, modelName: "tinychat", extra: new Dictionary<string, string?> { ["Alpaca:Paths:ModelRoots"] = hfHome });
        var listed = Assert.Single((await server.Client.ListModelsAsync(new ListModelsRequest())).Models);
        Assert.Equal(("tinychat", "Q4_K_M", "model"), (listed.Name, listed.Quantization, listed.ChatTemplate));
        Assert.EndsWith(PulledFile, listed.Path, StringComparison.Ordinal);
        Assert.Equal("Q4_K_M", (await server.Client.GetModelInfoAsync(new GetModelInfoRequest { Model = "tinychat" })).Info.Quantization);

        // Expected: the CPU engine on the same file, greedy from the rendered prompt's tokens, ended by <|im_end|>.
        using var engine = Engine.Load(path);
        Assert.Equal([GgmlType.Q4_K, GgmlType.Q6_K], engine.Weights!.Matrices.Select(m => m.Type).Distinct().Order());
        var tokenizer = engine.Tokenizer;
        Assert.Equal("<|im_end|>", tokenizer.TokenText(ImEnd));
        (string System, string User, IReadOnlyList<int> Prompt, SequenceCompletion Reply)? chosen = null;
        var tried = new List<string>();
        foreach (var (system, user) in Conversations)
        {
            var prompt = tokenizer.Encode(Render(system, user), addBos: false, parseSpecial: true);
            var direct = await DirectGeneration.RunAsync(engine, new SequenceRequest
            {
                PromptTokens = prompt,
                MaxTokens = MaxTokens,
                Sampling = SamplingParams.Greedy,
                EndTokenIds = [ImEnd],
            });
            if (direct.Tokens.Count > 1 && direct.Tokens[^1].Id == ImEnd)
            {
                chosen = (system, user, prompt, direct);
                break;
            }

            tried.Add($"{user}: [{string.Join(' ', direct.TokenIds)}]");
        }

        Assert.True(chosen is not null, $"no greedy reply ends at <|im_end|> within {MaxTokens} tokens: {string.Join("; ", tried)}");
        var (systemText, userText, promptTokens, reply) = chosen.Value;
        Assert.Equal(tokenizer.BosId, promptTokens[0]);
        Assert.Equal(SequenceFinishReason.EndOfSequence, reply.Finished.Reason);
        Assert.NotEmpty(reply.Text);
        Assert.True(reply.Finished.CompletionTokens < MaxTokens);

        // The user's side: the OpenAI SDK against the host's /v1, the model named as served.
        var client = new ChatClient("tinychat", new ApiKeyCredential("not-needed"), new OpenAIClientOptions { Endpoint = new Uri(server.Http, "/v1") });
        ChatCompletion completion = await client.CompleteChatAsync(
            [new SystemChatMessage(systemText), new UserChatMessage(userText)],
            new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0f });

        Assert.Equal(reply.Text, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(promptTokens.Count, completion.Usage.InputTokenCount);
        Assert.Equal(reply.Finished.CompletionTokens, completion.Usage.OutputTokenCount);
        Assert.Equal(promptTokens.Count + reply.Finished.CompletionTokens, completion.Usage.TotalTokenCount);
    }
}
