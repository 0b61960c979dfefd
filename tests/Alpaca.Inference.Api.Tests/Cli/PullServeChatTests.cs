using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Hub;

namespace Alpaca.Inference.Api.Tests.Cli;

/// <summary>
/// The path a user takes with a real download, end to end: <c>alpaca pull org/repo:Q4_K_M</c> (the built CLI, a child
/// process) from a loopback Hub that also holds a Q8_0 of the same model → the inference host serves the snapshot file →
/// <c>/v1/chat/completions</c> prompts it in its own ChatML template and stops at its end-of-turn token.
/// </summary>
public sealed class PullServeChatTests : IAsyncLifetime
{
    private const string Repo = "alpaca-tests/TinyChat-256-GGUF";
    private const string SystemText = "You are a helpful assistant.";
    private const string User = "Tell me a joke.";
    private const string PulledFile = "tinychat-256.q4_k_m.gguf";
    private const int MaxTokens = 48;

    // Random weights never learned to end a turn, but greedy decoding keeps returning to a few ids: <|im_end|> takes
    // one of them (a "?" piece), so this conversation's reply is four tokens and then the end-of-turn token, as a chat
    // model's is, and a server that did not stop there would run on to max_tokens.
    private const int ImEnd = 342;

    // As the model's template renders (system, user) with add_generation_prompt and bos_token "<s>": ChatML is plain text.
    private const string Rendered = "<s><|im_start|>system\n" + SystemText + "<|im_end|>\n<|im_start|>user\n" + User + "<|im_end|>\n<|im_start|>assistant\n";

    private readonly HubServer _hub = new();
    private readonly TempDir _dir = new("pull-serve-chat");
    private byte[] _q4km = [];
    private string _commit = "";

    public Task InitializeAsync()
    {
        // dim 256 / FFN 512: every row is whole 256-weight super-blocks, so the Q4_K_M mixture (Q4_K, Q6_K for
        // output/attn_v/ffn_down of the use_more_bits layers) applies to every matrix, as llama-quantize writes it.
        var config = TinyModelFactory.Tiny(dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, context: 512);
        var vocab = LlamaVocabulary.CreateByteFallback(config.VocabSize);
        var tokens = (string[])vocab.Tokens.Clone();
        var types = (TokenType[])vocab.Types.Clone();
        (tokens[^2], types[^2]) = ("<|im_start|>", TokenType.Control);
        (tokens[ImEnd], types[ImEnd]) = ("<|im_end|>", TokenType.Control);
        var spec = new TinyModelSpec
        {
            Config = config,
            RandomNorms = true,
            Seed = 13,
            InitStd = 0.05f,
            Name = "tinychat",
            Vocabulary = vocab with { Tokens = tokens, Types = types, ChatTemplate = TestModels.ChatMlTemplate },
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

        using var response = await server.HttpClient.PostAsync("/v1/chat/completions", new StringContent(
            JsonSerializer.Serialize(new
            {
                model = "tinychat",
                messages = new[] { new { role = "system", content = SystemText }, new { role = "user", content = User } },
                max_tokens = MaxTokens,
                temperature = 0,
            }),
            Encoding.UTF8,
            "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var choice = json.RootElement.GetProperty("choices")[0];
        var usage = json.RootElement.GetProperty("usage");

        // Expected: the CPU engine on the same file, greedy from the rendered prompt's tokens, ended by <|im_end|>.
        using var engine = Engine.Load(path);
        Assert.Equal([GgmlType.Q4_K, GgmlType.Q6_K], engine.Weights!.Matrices.Select(m => m.Type).Distinct().Order());
        var tokenizer = engine.Tokenizer;
        Assert.Equal("<|im_end|>", tokenizer.TokenText(ImEnd));
        var prompt = tokenizer.Encode(Rendered, addBos: false, parseSpecial: true);
        Assert.Equal(tokenizer.BosId, prompt[0]);
        var direct = await DirectGeneration.RunAsync(engine, new SequenceRequest
        {
            PromptTokens = prompt,
            MaxTokens = MaxTokens,
            Sampling = SamplingParams.Greedy,
            EndTokenIds = [ImEnd],
        });
        Assert.True(direct.Tokens.Count > 1 && direct.Tokens[^1].Id == ImEnd, $"the greedy reply does not end at <|im_end|> within {MaxTokens} tokens: [{string.Join(' ', direct.TokenIds)}]");
        Assert.Equal(SequenceFinishReason.EndOfSequence, direct.Finished.Reason);
        Assert.NotEmpty(direct.Text);

        Assert.Equal(direct.Text, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(prompt.Count, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(direct.Finished.CompletionTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(direct.Finished.CompletionTokens < MaxTokens);
        Assert.Equal(prompt.Count + direct.Finished.CompletionTokens, usage.GetProperty("total_tokens").GetInt32());
    }

}
