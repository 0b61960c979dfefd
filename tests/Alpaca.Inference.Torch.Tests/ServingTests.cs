using System.Text;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>The torch backend behind the real service: gRPC, the OpenAI API, ListModels and hot swaps between backends.</summary>
public sealed class ServingTests
{
    private static CompleteRequest Greedy(string prompt, int tokens) => new()
    {
        Request = new GenerateRequest
        {
            Prompt = prompt,
            Sampling = new SamplingParameters { Temperature = 0 },
            Stopping = new StoppingCriteria { MaxTokens = tokens, IgnoreEos = true },
        },
    };

    [Fact]
    public async Task The_service_serves_a_torch_model_over_grpc_and_the_openai_api_and_swaps_backends()
    {
        var path = TestModels.Tiny(GgmlType.F32);
        await using var server = await TestSetup.StartTorchServerAsync(path);

        var models = await server.Client.ListModelsAsync(new ListModelsRequest());
        var model = Assert.Single(models.Models);
        Assert.Equal(("tiny", "torch", TestSetup.DeviceLabel, "f32", "F32"), (model.Name, model.Backend, model.Device, model.Dtype, model.Quantization));

        var metrics = await server.HttpClient.GetStringAsync("/metrics");
        var info = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("alpaca_model_backend_info{", StringComparison.Ordinal));
        Assert.True(info is not null && info.Contains("backend=\"torch\"", StringComparison.Ordinal) && info.Contains($"device=\"{TestSetup.DeviceLabel}\"", StringComparison.Ordinal), metrics);

        var onTorch = await server.Client.CompleteAsync(Greedy("Once upon a time", 16));
        Assert.Equal(16, onTorch.Tokens.Count);

        using var http = await server.HttpClient.PostAsync("/v1/completions", new StringContent("""{"model":"tiny","prompt":"Once upon a time","max_tokens":16,"temperature":0,"ignore_eos":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)http.StatusCode);
        using (var json = JsonDocument.Parse(await http.Content.ReadAsStringAsync()))
        {
            Assert.Equal(onTorch.Text, json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        // Hot swap to the CPU engine under the same name: same greedy text (F32), and ListModels says so.
        var swapped = await server.Client.LoadModelAsync(new LoadModelRequest { Name = "tiny", Path = path, Backend = "cpu", MakeDefault = true });
        Assert.Equal(("cpu", "cpu"), (swapped.Info.Backend, swapped.Info.Device));
        var onCpu = await server.Client.CompleteAsync(Greedy("Once upon a time", 16));
        Assert.Equal(onTorch.Tokens.Select(t => t.Id), onCpu.Tokens.Select(t => t.Id));

        // And back to torch, on a quantized file this time (dequantized at load).
        var q8 = await server.Client.LoadModelAsync(new LoadModelRequest { Name = "tiny", Path = TestModels.Tiny(GgmlType.Q8_0), Backend = "torch", Device = TestSetup.Device, Dtype = "f32" });
        Assert.Equal(("torch", "F32"), (q8.Info.Backend, q8.Info.Quantization));
        Assert.Equal(16, (await server.Client.CompleteAsync(Greedy("Once upon a time", 16))).Tokens.Count);
        var listed = await server.Client.ListModelsAsync(new ListModelsRequest());
        Assert.Contains(listed.Models, m => m.Name == "tiny" && m.Backend == "torch" && m.State == ModelState.Ready);
    }

    [Fact]
    public async Task A_torch_model_chats_in_its_own_template_and_ends_its_turn_as_the_cpu_engine_does()
    {
        var path = TestModels.Chat(key: "chatml-f32", type: GgmlType.F32);
        await using var server = await TestSetup.StartTorchServerAsync(path);
        var info = Assert.Single((await server.Client.ListModelsAsync(new ListModelsRequest())).Models);
        Assert.Equal(("torch", "model"), (info.Backend, info.ChatTemplate));

        // The end-of-turn token of the file's vocabulary reaches the scheduler as an end token, as on the CPU engine.
        var served = server.Registry.Resolve("tiny");
        var imEnd = served.Engine.Tokenizer.VocabSize - 1;
        Assert.Equal("<|im_end|>", served.Engine.Tokenizer.TokenText(imEnd));
        Assert.Contains(imEnd, served.Chat.EndOfTurnTokenIds);

        const string chat = """{"model":"tiny","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Name a color."}],"max_tokens":12,"temperature":0}""";
        var onTorch = await ChatAsync(server, chat);

        await server.Client.LoadModelAsync(new LoadModelRequest { Name = "tiny", Path = path, Backend = "cpu", MakeDefault = true });
        var onCpu = await ChatAsync(server, chat);
        Assert.Equal(onCpu, onTorch);
    }

    // The reply's text, finish reason and token counts.
    private static async Task<(string? Text, string? Finish, int Prompt, int Completion)> ChatAsync(InferenceServer server, string json)
    {
        using var response = await server.HttpClient.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        var usage = doc.RootElement.GetProperty("usage");
        return (choice.GetProperty("message").GetProperty("content").GetString(), choice.GetProperty("finish_reason").GetString(),
            usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task An_unknown_backend_is_an_invalid_argument()
    {
        await using var server = await TestSetup.StartTorchServerAsync(TestModels.Tiny(GgmlType.Q4_0));
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await server.Client.LoadModelAsync(new LoadModelRequest { Name = "x", Path = TestModels.Tiny(GgmlType.Q4_0), Backend = "tpu" }));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
    }
}
