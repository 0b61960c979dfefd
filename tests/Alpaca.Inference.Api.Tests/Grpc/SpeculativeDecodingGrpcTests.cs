using System.Text;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Grpc.Core;

namespace Alpaca.Inference.Api.Tests.Grpc;

/// <summary>
/// Speculative decoding through the real host: a model loaded with a draft (LoadModel.draft_model) answers
/// greedy gRPC and OpenAI requests with exactly the text of the same model without one, reports its draft in
/// ModelInfo and its acceptance on /metrics; a draft with another vocabulary is refused with INVALID_ARGUMENT
/// naming the difference, and a draft outside the model roots like any other path.
/// </summary>
public sealed class SpeculativeDecodingGrpcTests
{
    private static GenerateRequest Greedy(string instruction, int maxTokens, string model) => new()
    {
        Model = model,
        Instruction = new AlpacaInstruction { Instruction = instruction },
        Sampling = new SamplingParameters { Temperature = 0 },
        Stopping = new StoppingCriteria { MaxTokens = maxTokens, IgnoreEos = true },
    };

    [Fact]
    public async Task A_model_with_a_draft_answers_greedy_requests_with_the_same_text_as_without()
    {
        await using var server = await InferenceServer.StartAsync(model: TestModels.Tiny(), modelName: "plain");
        var loaded = await server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "spec", DraftModel = TestModels.Tiny(seed: 5), DraftTokens = 3 });
        Assert.Equal(Path.GetFileName(TestModels.Tiny(seed: 5)), loaded.Info.DraftModel);
        Assert.Equal(3, loaded.Info.DraftTokens);
        Assert.Equal(string.Empty, (await server.Client.GetModelInfoAsync(new GetModelInfoRequest { Model = "plain" })).Info.DraftModel);

        foreach (var instruction in new[] { "Name three colours.", "Say hello.", "What is a llama?" })
        {
            var plain = await server.Client.CompleteAsync(new CompleteRequest { Request = Greedy(instruction, 24, "plain") });
            var spec = await server.Client.CompleteAsync(new CompleteRequest { Request = Greedy(instruction, 24, "spec") });
            Assert.Equal(plain.Text, spec.Text);
            Assert.Equal(plain.Tokens.Select(t => t.Id), spec.Tokens.Select(t => t.Id));
            Assert.Equal(24, spec.Result.Usage.CompletionTokens);
        }

        // The OpenAI front door goes through the same scheduler.
        async Task<string> Complete(string model)
        {
            var body = $$"""{"model":"{{model}}","prompt":"Once upon a time","max_tokens":20,"temperature":0,"ignore_eos":true}""";
            using var response = await server.HttpClient.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
        }

        Assert.Equal(await Complete("plain"), await Complete("spec"));

        var metrics = await server.HttpClient.GetStringAsync("/metrics");
        var drafted = metrics.Split('\n').Single(l => l.StartsWith("alpaca_spec_decode_num_draft_tokens_total{", StringComparison.Ordinal) && l.Contains("model_name=\"spec\"", StringComparison.Ordinal));
        Assert.Matches(@"\} [1-9]", drafted);
        Assert.Contains("alpaca_spec_decode_num_accepted_tokens_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("alpaca_spec_decode_draft_acceptance_rate{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_draft_with_another_vocabulary_is_refused_naming_the_difference()
    {
        await using var server = await InferenceServer.StartAsync(model: TestModels.Tiny(), modelName: "plain");
        var ex = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "spec", DraftModel = TestModels.Chat() }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("as the draft of model 'spec'", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("token 382 is '<|im_start|>' in the draft and ", ex.Status.Detail, StringComparison.Ordinal);
        var failed = (await server.Client.ListModelsAsync(new ListModelsRequest())).Models.Single(m => m.Name == "spec");
        Assert.Equal(ModelState.Failed, failed.State);

        var outside = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "spec", DraftModel = "/etc/passwd" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, outside.StatusCode);

        var k = await Assert.ThrowsAsync<RpcException>(() => server.Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "spec", DraftModel = TestModels.Tiny(seed: 5), DraftTokens = 17 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, k.StatusCode);
        Assert.Contains("draft_tokens = 17 is out of range [0, 16]", k.Status.Detail, StringComparison.Ordinal);

        // The model without a draft is untouched.
        Assert.Equal(5, (await server.Client.CompleteAsync(new CompleteRequest { Request = Greedy("Say hello.", 5, "plain") })).Result.Usage.CompletionTokens);
    }
}
