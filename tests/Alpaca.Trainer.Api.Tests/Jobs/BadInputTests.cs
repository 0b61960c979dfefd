using System.Text.Json.Nodes;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using Grpc.Core;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>
/// Bad input is refused at submit with INVALID_ARGUMENT and the reason where it can be checked there; what only
/// shows while running fails the job with the reason. The service keeps serving either way.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("trainer-bad");
    private TrainerHost _host = null!;

    public async Task InitializeAsync() => _host = await TrainerHost.StartAsync(_dir.Path);

    private async Task<string> RejectedAsync(JobSpec? spec)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => await _host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        return e.Status.Detail;
    }

    [Fact]
    public async Task Missing_files_are_invalid_arguments_naming_the_file()
    {
        var missing = _dir.File("absent.json");
        Assert.Contains(missing, await RejectedAsync(JobHelpers.Tiny(missing)));

        var spec = JobHelpers.Tiny(AlpacaSubset.Write(_dir, 2));
        spec.BaseModelPath = _dir.File("no-such-model");
        Assert.Contains("no-such-model", await RejectedAsync(spec));

        Directory.CreateDirectory(_dir.File("empty-model"));
        spec.BaseModelPath = _dir.File("empty-model");
        Assert.Contains("config.json", await RejectedAsync(spec));

        Assert.Contains("spec is required", await RejectedAsync(null));
        Assert.Contains("dataset", await RejectedAsync(new JobSpec { BaseModelPreset = "tiny" }));
        Assert.Contains("base_model", await RejectedAsync(new JobSpec { DatasetPath = spec.DatasetPath }));
    }

    [Fact]
    public async Task A_malformed_record_is_named_by_its_line()
    {
        var path = _dir.File("bad.json");
        File.WriteAllText(path, """
            [
              {"instruction": "Say hi.", "input": "", "output": "Hi."},
              {"instruction": "Add.", "input": "1+1", "output": 2}
            ]
            """);
        var reason = await RejectedAsync(JobHelpers.Tiny(path));
        Assert.Contains("line 3", reason);
        Assert.Contains("output", reason);

        File.WriteAllText(path, "[\n{\"instruction\": \"x\", \"output\": \"y\"},\n{\"instruction\": \n");
        Assert.Contains("line", await RejectedAsync(JobHelpers.Tiny(path)));
    }

    [Fact]
    public async Task A_base_model_of_another_architecture_is_refused()
    {
        var folder = _dir.File("gpt2");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject
        {
            ["model_type"] = "gpt2",
            ["vocab_size"] = 50257,
            ["n_embd"] = 768,
            ["n_layer"] = 12,
            ["n_head"] = 12,
        }.ToJsonString());
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), new byte[16]);
        var spec = JobHelpers.Tiny(AlpacaSubset.Write(_dir, 2));
        spec.BaseModelPath = folder;
        var reason = await RejectedAsync(spec);
        Assert.Contains("gpt2", reason);
        Assert.Contains("LLaMA", reason);
    }

    [Fact]
    public async Task Max_length_beyond_the_model_context_and_bad_hyper_parameters_are_refused()
    {
        var data = AlpacaSubset.Write(_dir, 2);
        var spec = JobHelpers.Tiny(data);
        spec.Hyperparameters.MaxLength = 4096;
        var reason = await RejectedAsync(spec);
        Assert.Contains("4096", reason);
        Assert.Contains("max_position_embeddings 1024", reason);

        spec = JobHelpers.Tiny(data);
        spec.Hyperparameters.Epochs = -1;
        Assert.Contains("epochs", await RejectedAsync(spec));

        spec = JobHelpers.Tiny(data);
        spec.Lora = new LoraConfig { Enabled = true, TargetModules = { "attn_proj" } };
        Assert.Contains("attn_proj", await RejectedAsync(spec));

        spec = JobHelpers.Tiny(data);
        spec.BaseModelPreset = "huge";
        Assert.Contains("huge", await RejectedAsync(spec));

        var e = await Assert.ThrowsAsync<RpcException>(async () => await _host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data), JobId = "../x" }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task A_job_that_fails_while_running_is_marked_failed_with_the_reason_and_the_next_job_still_runs()
    {
        // Passes every submit check (LLaMA config, files present) but the weights are not safetensors.
        var folder = _dir.File("broken-llama");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject
        {
            ["model_type"] = "llama",
            ["vocab_size"] = 64,
            ["hidden_size"] = 16,
            ["intermediate_size"] = 32,
            ["num_hidden_layers"] = 1,
            ["num_attention_heads"] = 2,
            ["max_position_embeddings"] = 128,
        }.ToJsonString());
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.model"), [1, 2, 3]);
        var data = AlpacaSubset.Write(_dir, 4);
        var broken = JobHelpers.Tiny(data);
        broken.BaseModelPath = folder;

        var failed = (await _host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = broken, JobId = "broken" })).Job;
        var good = (await _host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 1), JobId = "good" })).Job;
        failed = await JobHelpers.WaitForAsync(_host.Client, failed.Id, JobHelpers.Ended, TimeSpan.FromMinutes(1));
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains(folder, failed.Error);

        good = await JobHelpers.WaitForAsync(_host.Client, good.Id, JobHelpers.Ended, TimeSpan.FromMinutes(1));
        Assert.True(good.State == JobState.Succeeded, $"{good.State}: {good.Error}");
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }
}
