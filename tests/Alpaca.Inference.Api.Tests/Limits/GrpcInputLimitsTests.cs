using Alpaca.Contracts.V1;
using Grpc.Core;
using static Alpaca.Inference.Api.Tests.Limits.LimitsServerFixture;

namespace Alpaca.Inference.Api.Tests.Limits;

/// <summary>
/// Every size limit of the gRPC front door over a real channel: refused with INVALID_ARGUMENT (RESOURCE_EXHAUSTED
/// for the transport's message limit) and a message naming the field and the limit; just under it, served.
/// </summary>
public sealed class GrpcInputLimitsTests(LimitsServerFixture fixture) : IClassFixture<LimitsServerFixture>
{
    private InferenceService.InferenceServiceClient Client => fixture.Server.Client;

    // A generous deadline: the refusals are checked before tokenizing, but a loaded CI machine is slow.
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(60);

    private static GenerateRequest Request(string prompt, int maxTokens = 2) => new()
    {
        Prompt = prompt,
        Sampling = new SamplingParameters { Temperature = 0 },
        Stopping = new StoppingCriteria { MaxTokens = maxTokens, IgnoreEos = true },
    };

    private async Task<RpcException> RefusedAsync(GenerateRequest request)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Client.CompleteAsync(new CompleteRequest { Request = request }, deadline: Deadline).ResponseAsync);
        return e;
    }

    private async Task ServedAsync(GenerateRequest request)
    {
        var reply = await Client.CompleteAsync(new CompleteRequest { Request = request }, deadline: Deadline);
        Assert.True(reply.Result.Usage.CompletionTokens > 0);
    }

    [Fact]
    public async Task A_multi_megabyte_prompt_is_refused_by_its_character_count_before_tokenizing()
    {
        // 4 MiB of text the byte-fallback tokenizer would spend a long time on; the refusal reports characters,
        // the measure taken before tokenizing, not tokens.
        var huge = new string('x', 4 * 1024 * 1024);
        var e = await RefusedAsync(Request(huge));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"prompt has {huge.Length} characters; at most {PromptChars} are accepted (checked before tokenizing).", e.Status.Detail);

        await ServedAsync(Request(new string('a', PromptChars)));
    }

    [Fact]
    public async Task Instruction_and_input_count_together_against_the_prompt_cap()
    {
        var request = Request("");
        request.Instruction = new AlpacaInstruction { Instruction = new string('i', PromptChars / 2), Input = new string('n', (PromptChars / 2) + 1) };
        var e = await RefusedAsync(request);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains($"have {PromptChars + 1} characters together; at most {PromptChars}", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Max_tokens_is_capped_by_the_server_whatever_the_context_allows()
    {
        var e = await RefusedAsync(Request("Once upon a time", MaxTokens + 1));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"stopping.max_tokens = {MaxTokens + 1} exceeds this server's limit of {MaxTokens} new tokens per request.", e.Status.Detail);

        var reply = await Client.CompleteAsync(new CompleteRequest { Request = Request("Once upon a time", MaxTokens) }, deadline: Deadline);
        Assert.Equal(MaxTokens, reply.Result.Usage.CompletionTokens);

        // Unset max_tokens (256 by default) is shortened to the cap rather than refused.
        var unset = Request("Once upon a time");
        unset.Stopping.MaxTokens = 0;
        var capped = await Client.CompleteAsync(new CompleteRequest { Request = unset }, deadline: Deadline);
        Assert.Equal(MaxTokens, capped.Result.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Stop_sequences_and_stop_token_ids_are_counted()
    {
        var stops = Request("Once upon a time");
        stops.Stopping.Stop.AddRange(Enumerable.Range(0, Stops + 1).Select(i => $"zz{i}"));
        var e = await RefusedAsync(stops);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"stopping.stop has {Stops + 1} sequences; at most {Stops} are allowed.", e.Status.Detail);

        var longStop = Request("Once upon a time");
        longStop.Stopping.Stop.Add(new string('s', 100_000));
        e = await RefusedAsync(longStop);
        Assert.Equal("stopping.stop[0] has 100000 characters; a stop sequence must be 1 to 256 UTF-8 bytes.", e.Status.Detail);

        var ids = Request("Once upon a time");
        ids.Stopping.StopTokenIds.AddRange(Enumerable.Range(1, StopTokenIds + 1));
        e = await RefusedAsync(ids);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"stopping.stop_token_ids has {StopTokenIds + 1} ids; at most {StopTokenIds} are allowed.", e.Status.Detail);

        var under = Request("Once upon a time");
        under.Stopping.Stop.AddRange(Enumerable.Range(0, Stops).Select(i => $"zz{i}"));
        under.Stopping.StopTokenIds.AddRange(Enumerable.Range(300, StopTokenIds));
        await ServedAsync(under);
    }

    [Fact]
    public async Task Model_names_and_request_ids_are_bounded()
    {
        var named = Request("Once upon a time");
        named.Model = new string('m', ModelNameChars + 1);
        var e = await RefusedAsync(named);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"model has {ModelNameChars + 1} characters; a model name has at most {ModelNameChars}.", e.Status.Detail);

        var id = Request("Once upon a time");
        id.RequestId = new string('r', RequestIdChars + 1);
        e = await RefusedAsync(id);
        Assert.Equal($"request_id has {RequestIdChars + 1} characters; at most {RequestIdChars} are allowed.", e.Status.Detail);

        var under = Request("Once upon a time");
        under.RequestId = new string('r', RequestIdChars);
        await ServedAsync(under);
    }

    [Fact]
    public async Task A_message_over_the_grpc_receive_limit_is_refused_by_the_transport()
    {
        var e = await RefusedAsync(Request(new string('x', TransportBytes + 1024)));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal("Received message exceeds the maximum configured message size.", e.Status.Detail);
    }

    [Fact]
    public async Task LoadModel_bounds_threads_and_context_length_before_touching_the_file()
    {
        // A path that does not exist: the bounds answer first, so the refusal says nothing about the file.
        var threads = await Assert.ThrowsAsync<RpcException>(() => Client.LoadModelAsync(new LoadModelRequest { Path = "/no/such.gguf", Threads = LoadThreads + 1 }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, threads.StatusCode);
        Assert.StartsWith($"threads = {LoadThreads + 1} is out of range [0, {LoadThreads}]", threads.Status.Detail, StringComparison.Ordinal);

        var context = await Assert.ThrowsAsync<RpcException>(() => Client.LoadModelAsync(new LoadModelRequest { Path = "/no/such.gguf", ContextLength = LoadContextLength + 1 }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, context.StatusCode);
        Assert.StartsWith($"context_length = {LoadContextLength + 1} is out of range [0, {LoadContextLength}]", context.Status.Detail, StringComparison.Ordinal);

        var negative = await Assert.ThrowsAsync<RpcException>(() => Client.LoadModelAsync(new LoadModelRequest { Path = "/no/such.gguf", Threads = -1 }, deadline: Deadline).ResponseAsync);
        Assert.StartsWith("threads = -1 is out of range", negative.Status.Detail, StringComparison.Ordinal);

        var name = await Assert.ThrowsAsync<RpcException>(() => Client.LoadModelAsync(new LoadModelRequest { Path = "/no/such.gguf", Name = new string('n', ModelNameChars + 1) }, deadline: Deadline).ResponseAsync);
        Assert.Equal($"name has {ModelNameChars + 1} characters; a model name has at most {ModelNameChars}.", name.Status.Detail);

        // At the bounds: accepted, and loaded under its own name.
        var loaded = await Client.LoadModelAsync(new LoadModelRequest { Path = TestModels.Tiny(), Name = "bounded", Threads = LoadThreads, ContextLength = LoadContextLength / 2 }, deadline: Deadline);
        Assert.Equal("bounded", loaded.Info.Name);
        Assert.True((await Client.UnloadModelAsync(new UnloadModelRequest { Model = "bounded" }, deadline: Deadline)).Unloaded);
    }

    [Fact]
    public async Task Tokenize_text_is_bounded()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Client.TokenizeAsync(new TokenizeRequest { Text = new string('t', 1024 * 1024) }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith($"text has {1024 * 1024} characters; at most {PromptChars} are accepted", e.Status.Detail, StringComparison.Ordinal);

        var ok = await Client.TokenizeAsync(new TokenizeRequest { Text = new string('t', PromptChars) }, deadline: Deadline);
        Assert.NotEmpty(ok.Ids);
    }
}
