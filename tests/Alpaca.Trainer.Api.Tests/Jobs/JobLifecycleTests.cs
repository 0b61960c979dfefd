using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api.Tests.Support;
using Grpc.Core;
using Xunit.Abstractions;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>Submit, get, list, cancel and watch over real gRPC on loopback, with the events the service publishes.</summary>
public sealed class JobLifecycleTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("trainer-api");

    [Fact]
    public async Task A_submitted_job_trains_streams_every_step_exports_gguf_and_publishes_progress_and_model_events()
    {
        await using var host = await TrainerHost.StartAsync(_dir.Path);
        var progressEvents = host.Broker.Subscribe(EventTopics.TrainingProgress, "test");
        var modelEvents = host.Broker.Subscribe(EventTopics.ModelPublished, "test");
        var data = AlpacaSubset.Write(_dir, 4);

        var spec = JobHelpers.Tiny(data, epochs: 6, checkpointEvery: 3, export: GgufExportType.Q80);
        spec.ModelName = "tiny-alpaca";
        var submitted = (await host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "job-one" })).Job;
        Assert.Equal("job-one", submitted.Id);
        Assert.Equal(JobState.Queued, submitted.State);
        Assert.Equal(Path.Combine(_dir.Path, "jobs", "job-one"), submitted.Spec.OutputDir);

        var seen = await JobHelpers.WatchToEndAsync(host.Client, "job-one", TimeSpan.FromMinutes(2));
        var final = seen[^1];
        Assert.True(final.State == JobState.Succeeded, $"job ended {final.State}: {final.Error}");
        var steps = seen.Where(j => j.State == JobState.Running && j.Progress.Step > 0).Select(j => j.Progress).ToList();
        output.WriteLine(string.Join(" ", steps.Select(p => $"{p.Step}:{p.Loss:F3}")));

        // Every optimizer step reached the watcher, in order, with the fields the contract promises.
        Assert.Equal([1, 2, 3, 4, 5, 6], steps.Select(p => p.Step).Distinct());
        Assert.All(steps, p => Assert.Equal(6, p.TotalSteps));
        Assert.All(steps, p => Assert.True(p.TokensPerSecond > 0 && p.Eta is not null && double.IsFinite(p.Loss)));
        Assert.Equal(6.0, steps[^1].Epoch, 6);
        Assert.Equal(6, steps[^1].CheckpointStep);
        Assert.True(steps[^1].Loss < steps[0].Loss, "the loss did not go down");
        Assert.Contains(seen, j => j.State == JobState.Exporting);

        // The result is on disk and in Get/List.
        Assert.True(File.Exists(final.GgufPath), final.GgufPath);
        Assert.True(File.Exists(Path.Combine(final.CheckpointDir, "config.json")));
        var got = (await host.Client.GetJobAsync(new GetJobRequest { JobId = "job-one" })).Job;
        Assert.Equal(final, got);
        var listed = (await host.Client.ListJobsAsync(new ListJobsRequest())).Jobs;
        Assert.Equal("job-one", Assert.Single(listed).Id);

        // Events: one training-progress per step and per state change; model-published with the GGUF.
        var model = EventSerializer.Unwrap<ModelPublished>((await ReadAsync(modelEvents)).Envelope);
        Assert.Equal("tiny-alpaca", model.ModelName);
        Assert.Equal("job-one", model.JobId);
        Assert.Equal(final.GgufPath, model.GgufPath);
        Assert.Equal("Q8_0", model.Quantization);
        Assert.Equal(data, model.Dataset);
        var progress = new List<TrainingProgress>();
        while (progressEvents.TryRead(out var delivery))
        {
            progress.Add(EventSerializer.Unwrap<TrainingProgress>(delivery.Envelope));
        }

        Assert.Equal([1, 2, 3, 4, 5, 6], progress.Where(p => p.State == "JOB_STATE_RUNNING" && p.Step > 0).Select(p => p.Step));
        Assert.Equal("JOB_STATE_QUEUED", progress[0].State);
        Assert.Equal("JOB_STATE_SUCCEEDED", progress[^1].State);
        Assert.Equal(steps[^1].Loss, progress.Last(p => p.Step == 6).Loss);

        // The trainer's meter on the shell's Prometheus endpoint.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(host.Http, "/metrics"));
        Assert.Matches(@"alpaca_trainer_steps_total(\{[^}]*\})? 6\b", metrics);
        Assert.Matches(@"alpaca_trainer_jobs_finished_total\{[^}]*state=""JOB_STATE_SUCCEEDED""[^}]*\} 1\b", metrics);
        Assert.Matches(@"alpaca_trainer_jobs_submitted_total(\{[^}]*\})? 1\b", metrics);
    }

    [Fact]
    public async Task Jobs_run_one_at_a_time_others_queue_and_cancel_stops_queued_and_running_jobs()
    {
        await using var host = await TrainerHost.StartAsync(_dir.Path);
        var data = AlpacaSubset.Write(_dir, 4);
        var client = host.Client;

        var longJob = (await client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 1000), JobId = "long" })).Job;
        var queued = (await client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 1), JobId = "queued" })).Job;
        var last = (await client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 1), JobId = "last" })).Job;

        // Submitting an existing id returns that job and queues nothing new.
        var again = (await client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 5), JobId = "queued" })).Job;
        Assert.Equal(queued, again);

        await JobHelpers.WaitForAsync(client, "long", j => j.State == JobState.Running && j.Progress.Step >= 1, TimeSpan.FromMinutes(1));
        Assert.Equal(JobState.Queued, (await client.GetJobAsync(new GetJobRequest { JobId = "queued" })).Job.State);
        Assert.Equal(JobState.Queued, (await client.GetJobAsync(new GetJobRequest { JobId = "last" })).Job.State);
        Assert.Equal(["last", "queued", "long"], (await client.ListJobsAsync(new ListJobsRequest())).Jobs.Select(j => j.Id));
        var page = await client.ListJobsAsync(new ListJobsRequest { PageSize = 2 });
        Assert.Equal(["last", "queued"], page.Jobs.Select(j => j.Id));
        Assert.Equal(["long"], (await client.ListJobsAsync(new ListJobsRequest { PageSize = 2, PageToken = page.NextPageToken })).Jobs.Select(j => j.Id));

        // Cancelling a queued job is immediate; cancelling the running one stops it between micro-batches.
        Assert.Equal(JobState.Cancelled, (await client.CancelJobAsync(new CancelJobRequest { JobId = "queued" })).Job.State);
        using var watch = client.WatchJob(new WatchJobRequest { JobId = "long" });
        Assert.Equal(JobState.Cancelled, (await client.CancelJobAsync(new CancelJobRequest { JobId = "long" })).Job.State);
        var watched = new List<Job>();
        await foreach (var response in watch.ResponseStream.ReadAllAsync())
        {
            watched.Add(response.Job);
        }

        Assert.Equal(JobState.Cancelled, watched[^1].State);
        var stoppedAt = watched[^1].Progress.Step;
        Assert.True(stoppedAt < 1000, $"the long job ran to step {stoppedAt}");

        // The slot is free again: the last job runs and succeeds; the cancelled ones stay cancelled.
        var done = await JobHelpers.WaitForAsync(client, "last", JobHelpers.Ended, TimeSpan.FromMinutes(1));
        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}");
        Assert.Equal(JobState.Cancelled, (await client.GetJobAsync(new GetJobRequest { JobId = "queued" })).Job.State);
        Assert.Equal(0, (await client.GetJobAsync(new GetJobRequest { JobId = "queued" })).Job.Progress.Step);
        Assert.Equal(stoppedAt, (await client.GetJobAsync(new GetJobRequest { JobId = "long" })).Job.Progress.Step);

        var ended = await Assert.ThrowsAsync<RpcException>(async () => await client.CancelJobAsync(new CancelJobRequest { JobId = "last" }));
        Assert.Equal(StatusCode.FailedPrecondition, ended.StatusCode);
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.CancelJobAsync(new CancelJobRequest { JobId = "nope" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        missing = await Assert.ThrowsAsync<RpcException>(async () => await client.GetJobAsync(new GetJobRequest { JobId = "nope" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal(longJob.CreatedAt, (await client.GetJobAsync(new GetJobRequest { JobId = "long" })).Job.CreatedAt);
        Assert.Equal(JobState.Queued, last.State);
    }

    [Fact]
    public async Task A_job_can_name_a_data_set_the_generator_published()
    {
        await using var host = await TrainerHost.StartAsync(_dir.Path);
        var data = AlpacaSubset.Write(_dir, 4, "regen.json");
        // Also the contract's LoRA settings and the F32 export, mapped onto the core.
        var spec = JobHelpers.Tiny(data, epochs: 1, export: GgufExportType.F32);
        spec.DatasetId = "run-42";
        spec.Lora = new LoraConfig { Enabled = true, R = 4, TargetModules = { "q_proj", "k_proj", "v_proj" } };

        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec }));
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
        Assert.Contains("run-42", unknown.Status.Detail);

        // The generator's event goes through the bus; the trainer's handler records it.
        var bus = host.Services.GetService(typeof(IEventBus)) as IEventBus;
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(data)));
        await bus!.PublishAsync(new DatasetPublished { DatasetId = "run-42", RunId = "run", DatasetPath = data, RecordCount = 4, Sha256 = digest });

        // A data set whose file is no longer the one published (here: another digest) is refused with both digests.
        var stale = new string('0', 64);
        await bus.PublishAsync(new DatasetPublished { DatasetId = "run-43", RunId = "run", DatasetPath = data, RecordCount = 4, Sha256 = stale });
        var staleSpec = spec.Clone();
        staleSpec.DatasetId = "run-43";
        RpcException refused;
        for (var attempt = 0; ; attempt++)
        {
            refused = await Assert.ThrowsAsync<RpcException>(async () => await host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = staleSpec, JobId = "stale-dataset" }));
            if (!refused.Status.Detail.Contains("no dataset-published event", StringComparison.Ordinal) || attempt >= 100)
            {
                break;
            }

            await Task.Delay(100); // the handler runs asynchronously
        }

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains($"has SHA-256 {digest}, but the generator published {stale}", refused.Status.Detail);

        Job? job = null;
        for (var attempt = 0; job is null; attempt++)
        {
            try
            {
                job = (await host.Client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = "from-dataset" })).Job;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && attempt < 100)
            {
                await Task.Delay(100); // the handler runs asynchronously
            }
        }

        var done = await JobHelpers.WaitForAsync(host.Client, job.Id, JobHelpers.Ended, TimeSpan.FromMinutes(1));
        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}");
        Assert.Equal("run-42", done.Spec.DatasetId);
        Assert.EndsWith("model-f32.gguf", done.GgufPath);
        Assert.True(File.Exists(done.GgufPath));
        var adapter = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(done.CheckpointDir, "adapter", "adapter_config.json")))!;
        Assert.Equal(4, (int)adapter["r"]!);
        Assert.Equal(["k_proj", "q_proj", "v_proj"], adapter["target_modules"]!.AsArray().Select(t => (string)t!).Order());
    }

    [Fact]
    public async Task A_job_interrupted_by_a_graceful_shutdown_stays_running_and_resumes_on_the_next_start()
    {
        var data = AlpacaSubset.Write(_dir, 4);
        await using (var first = await TrainerHost.StartAsync(_dir.Path))
        {
            await first.Client.SubmitJobAsync(new SubmitJobRequest { Spec = JobHelpers.Tiny(data, epochs: 400, checkpointEvery: 2), JobId = "restarted" });
            await JobHelpers.WaitForAsync(first.Client, "restarted", j => j.Progress.CheckpointStep >= 2, TimeSpan.FromMinutes(1));
        }

        // SIGTERM-style stop: the job is not failed or cancelled; it is still RUNNING in the state folder.
        await using var second = await TrainerHost.StartAsync(_dir.Path);
        var resumed = await JobHelpers.WaitForAsync(second.Client, "restarted", j => j.Resumes == 1 && j.Progress.Step > 0, TimeSpan.FromMinutes(1));
        Assert.Equal(JobState.Running, resumed.State);
        await second.Client.CancelJobAsync(new CancelJobRequest { JobId = "restarted" });
        Assert.Equal(JobState.Cancelled, (await JobHelpers.WaitForAsync(second.Client, "restarted", JobHelpers.Ended, TimeSpan.FromMinutes(1))).State);
    }

    private static async Task<Alpaca.Messaging.InProcess.InProcessBroker.Delivery> ReadAsync(System.Threading.Channels.ChannelReader<Alpaca.Messaging.InProcess.InProcessBroker.Delivery> reader)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await reader.ReadAsync(cts.Token);
    }

    public void Dispose() => _dir.Dispose();
}
