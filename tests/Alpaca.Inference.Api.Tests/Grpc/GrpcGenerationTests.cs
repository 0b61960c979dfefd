using System.Text;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Prompts;
using Grpc.Core;

namespace Alpaca.Inference.Api.Tests.Grpc;

/// <summary>Streaming generation over a real gRPC channel to the real host with a tiny model.</summary>
public sealed class GrpcGenerationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private InferenceService.InferenceServiceClient Client => fixture.Server.Client;

    private static GenerateRequest Greedy(string prompt, int maxTokens) => new()
    {
        Prompt = prompt,
        Sampling = new SamplingParameters { Temperature = 0 },
        Stopping = new StoppingCriteria { MaxTokens = maxTokens, IgnoreEos = true },
    };

    private static async Task<(List<GenerateResponse> Messages, string Text)> StreamAsync(InferenceService.InferenceServiceClient client, GenerateRequest request)
    {
        using var call = client.Generate(request);
        var messages = new List<GenerateResponse>();
        await foreach (var m in call.ResponseStream.ReadAllAsync())
        {
            messages.Add(m);
        }

        return (messages, string.Concat(messages.Where(m => m.EventCase == GenerateResponse.EventOneofCase.Delta).Select(m => m.Delta.Text)));
    }

    [Fact]
    public async Task A_stream_is_deltas_then_one_final_result_with_usage()
    {
        var (messages, text) = await StreamAsync(Client, Greedy("Once upon a time", 24));
        Assert.True(messages.Count >= 2);
        Assert.All(messages[..^1], m => Assert.Equal(GenerateResponse.EventOneofCase.Delta, m.EventCase));
        var result = messages[^1].Result;
        Assert.NotNull(result);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        var promptTokens = (await Client.TokenizeAsync(new TokenizeRequest { Text = "Once upon a time" })).Ids.Count;
        Assert.Equal(promptTokens, result.Usage.PromptTokens);
        Assert.Equal(24, result.Usage.CompletionTokens);
        Assert.Equal(promptTokens + 24, result.Usage.TotalTokens);
        Assert.Equal("tiny", result.Model);
        Assert.Equal(24, messages[..^1].Sum(m => m.Delta.Tokens.Count));

        // The streamed text is the unary completion's text, and the detokenized ids.
        var complete = await Client.CompleteAsync(new CompleteRequest { Request = Greedy("Once upon a time", 24) });
        Assert.Equal(complete.Text, text);
        var ids = messages[..^1].SelectMany(m => m.Delta.Tokens).Select(t => t.Id).ToList();
        Assert.Equal(complete.Tokens.Select(t => t.Id), ids);
        var decoded = await Client.DetokenizeAsync(new DetokenizeRequest { Ids = { ids } });
        Assert.Equal(decoded.Text, text);
    }

    [Fact]
    public async Task Deltas_never_split_a_UTF8_character()
    {
        // Sampled text from a byte-fallback vocabulary hits partial multi-byte sequences often.
        using var call = Client.Generate(new GenerateRequest
        {
            Prompt = "héllo wörld ✓",
            Sampling = new SamplingParameters { Temperature = 1.5, Seed = 3 },
            Stopping = new StoppingCriteria { MaxTokens = 100, IgnoreEos = true },
        });
        await foreach (var m in call.ResponseStream.ReadAllAsync())
        {
            if (m.EventCase == GenerateResponse.EventOneofCase.Delta && m.Delta.Text.Length > 0)
            {
                Assert.False(char.IsHighSurrogate(m.Delta.Text[^1]), "a delta ends inside a surrogate pair");
                Assert.False(char.IsLowSurrogate(m.Delta.Text[0]), "a delta starts inside a surrogate pair");
            }
        }
    }

    [Fact]
    public async Task Greedy_output_through_the_service_equals_the_engines_direct_output()
    {
        using var engine = Engine.Load(TestModels.Tiny());
        string[] prompts = ["Once upon a time", "The quick brown fox", "abc", "Below is an instruction"];
        var direct = new List<SequenceCompletion>();
        foreach (var p in prompts)
        {
            direct.Add(await DirectGeneration.GreedyAsync(engine, p, 40));
        }

        // All four at once: they share forward passes in the continuous batch.
        var served = await Task.WhenAll(prompts.Select(p => StreamAsync(Client, Greedy(p, 40))));
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(direct[i].Text, served[i].Text);
            Assert.Equal(direct[i].TokenIds, served[i].Messages[..^1].SelectMany(m => m.Delta.Tokens).Select(t => t.Id));
        }
    }

    [Fact]
    public async Task An_alpaca_instruction_is_wrapped_in_the_exact_template()
    {
        var request = new GenerateRequest
        {
            Instruction = new AlpacaInstruction { Instruction = "Name three colors.", Input = "Use French." },
            Sampling = new SamplingParameters { Temperature = 0 },
            Stopping = new StoppingCriteria { MaxTokens = 5, IgnoreEos = true },
        };
        var complete = await Client.CompleteAsync(new CompleteRequest { Request = request });
        var templated = AlpacaPrompt.Build("Name three colors.", "Use French.");
        Assert.Contains("### Input:\nUse French.", templated, StringComparison.Ordinal);
        var expected = (await Client.TokenizeAsync(new TokenizeRequest { Text = templated })).Ids.Count;
        Assert.Equal(expected, complete.Result.Usage.PromptTokens);

        var raw = await Client.CompleteAsync(new CompleteRequest { Request = Greedy(templated, 5) });
        Assert.Equal(raw.Text, complete.Text);
    }

    [Fact]
    public async Task Log_probabilities_and_top_alternatives_come_with_each_token()
    {
        var request = Greedy("x", 6);
        request.Logprobs = new LogprobsOptions { Enabled = true, TopLogprobs = 3 };
        var complete = await Client.CompleteAsync(new CompleteRequest { Request = request });
        Assert.Equal(6, complete.Tokens.Count);
        foreach (var t in complete.Tokens)
        {
            Assert.True(t.Logprob <= 0);
            Assert.Equal(3, t.TopLogprobs.Count);
            Assert.Equal(t.Id, t.TopLogprobs[0].Id); // greedy takes the most likely token
            Assert.Equal(t.Logprob, t.TopLogprobs[0].Logprob, 5);
        }
    }

    [Fact]
    public async Task A_seed_makes_sampling_reproducible()
    {
        GenerateRequest Sampled(ulong seed) => new()
        {
            Prompt = "Tell me",
            Sampling = new SamplingParameters { Temperature = 1.2, TopP = 0.95, TopK = 50, MinP = 0.01, RepetitionPenalty = 1.1, FrequencyPenalty = 0.2, PresencePenalty = 0.1, Seed = seed },
            Stopping = new StoppingCriteria { MaxTokens = 20, IgnoreEos = true },
        };
        var a = await Client.CompleteAsync(new CompleteRequest { Request = Sampled(5) });
        var b = await Client.CompleteAsync(new CompleteRequest { Request = Sampled(5) });
        var c = await Client.CompleteAsync(new CompleteRequest { Request = Sampled(6) });
        Assert.Equal(a.Tokens.Select(t => t.Id), b.Tokens.Select(t => t.Id));
        Assert.NotEqual(a.Tokens.Select(t => t.Id), c.Tokens.Select(t => t.Id));
        Assert.Equal(5UL, a.Result.Seed);
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_text_before_it_and_is_reported()
    {
        var free = await Client.CompleteAsync(new CompleteRequest { Request = Greedy("abc", 40) });
        Assert.True(free.Text.Length >= 6, $"need text to pick a stop from: '{free.Text}'");
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var cut = free.Text.IndexOf(stop, StringComparison.Ordinal);

        var request = Greedy("abc", 40);
        request.Stopping.Stop.Add(stop);
        var stopped = await Client.CompleteAsync(new CompleteRequest { Request = request });
        Assert.Equal(FinishReason.StopSequence, stopped.Result.FinishReason);
        Assert.Equal(stop, stopped.Result.StopSequence);
        Assert.Equal(free.Text[..cut], stopped.Text);

        request.Stopping.IncludeStopStrInOutput = true;
        var included = await Client.CompleteAsync(new CompleteRequest { Request = request });
        Assert.Equal(free.Text[..cut] + stop, included.Text);
    }

    [Fact]
    public async Task Bad_requests_get_precise_errors()
    {
        async Task<RpcException> Fails(GenerateRequest r) => await Assert.ThrowsAsync<RpcException>(() => Client.CompleteAsync(new CompleteRequest { Request = r }).ResponseAsync);

        var empty = await Fails(Greedy("", 5));
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Contains("prompt is empty", empty.Status.Detail, StringComparison.Ordinal);

        var prompt = (await Client.TokenizeAsync(new TokenizeRequest { Text = "Once upon a time" })).Ids.Count;
        var tooLong = await Fails(Greedy("Once upon a time", 505));
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);
        Assert.Contains($"{prompt} + 505 = {prompt + 505}", tooLong.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("512", tooLong.Status.Detail, StringComparison.Ordinal);

        var hot = Greedy("x", 5);
        hot.Sampling.Temperature = 150;
        var temperature = await Fails(hot);
        Assert.Equal(StatusCode.InvalidArgument, temperature.StatusCode);
        Assert.Contains("sampling.temperature = 150 is out of range [0, 100]", temperature.Status.Detail, StringComparison.Ordinal);

        var nucleus = Greedy("x", 5);
        nucleus.Sampling.TopP = 0;
        Assert.Contains("sampling.top_p = 0 is out of range (0, 1]", (await Fails(nucleus)).Status.Detail, StringComparison.Ordinal);

        var unknown = Greedy("x", 5);
        unknown.Model = "no-such-model";
        var notFound = await Fails(unknown);
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        Assert.Contains("no-such-model", notFound.Status.Detail, StringComparison.Ordinal);

        var tooManyStops = Greedy("x", 5);
        tooManyStops.Stopping.Stop.AddRange(Enumerable.Range(0, 17).Select(i => $"s{i}"));
        Assert.Contains("at most 16", (await Fails(tooManyStops)).Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_are_listed_and_described()
    {
        var list = await Client.ListModelsAsync(new ListModelsRequest());
        var model = Assert.Single(list.Models);
        Assert.Equal("tiny", model.Name);
        Assert.True(model.IsDefault);
        Assert.Equal(ModelState.Ready, model.State);
        var info = (await Client.GetModelInfoAsync(new GetModelInfoRequest())).Info;
        Assert.Equal("llama", info.Architecture);
        Assert.Equal(512, info.ContextLength);
        Assert.Equal("Q8_0", info.Quantization);
        Assert.Equal(384, info.VocabSize);
        Assert.Equal(2, info.BlockCount);
        Assert.Equal(2, info.HeadCountKv);
        Assert.True(info.ParameterCount > 0);
        Assert.True((await Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Model = "tiny" })).Ready);
        Assert.False((await Client.ModelReadyAsync(new ModelReadyRequest { Model = "other" })).Ready);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.GetModelInfoAsync(new GetModelInfoRequest { Model = "other" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task Tokenize_and_detokenize_round_trip()
    {
        var tokens = await Client.TokenizeAsync(new TokenizeRequest { Text = "Hello, wörld!" });
        Assert.Equal(tokens.Ids.Count, tokens.Pieces.Count);
        var noBos = await Client.TokenizeAsync(new TokenizeRequest { Text = "Hello, wörld!", AddBos = false });
        Assert.Equal(tokens.Ids.Count - 1, noBos.Ids.Count);
        var text = await Client.DetokenizeAsync(new DetokenizeRequest { Ids = { tokens.Ids } });
        Assert.Equal("Hello, wörld!", text.Text);
    }

    [Fact]
    public async Task Serving_metrics_appear_on_the_metrics_endpoint()
    {
        await Client.CompleteAsync(new CompleteRequest { Request = Greedy("metrics", 8) });
        var text = await fixture.Server.HttpClient.GetStringAsync("/metrics");
        foreach (var name in new[]
        {
            "alpaca_num_requests_running", "alpaca_num_requests_waiting", "alpaca_kv_cache_usage_perc",
            "alpaca_time_to_first_token_seconds_bucket", "alpaca_inter_token_latency_seconds_bucket",
            "alpaca_e2e_request_latency_seconds_bucket", "alpaca_generation_tokens_total", "alpaca_request_success_total",
        })
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }

        Assert.Contains("model_name=\"tiny\"", text, StringComparison.Ordinal);
        var sb = new StringBuilder();
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("alpaca_generation_tokens_total", StringComparison.Ordinal)))
        {
            sb.Append(line);
        }

        Assert.Matches(@"alpaca_generation_tokens_total\{[^}]*\} [1-9]", sb.ToString());
    }
}
