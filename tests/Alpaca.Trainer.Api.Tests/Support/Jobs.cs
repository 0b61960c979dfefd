using Alpaca.Contracts.V1;
using Grpc.Core;

namespace Alpaca.Trainer.Api.Tests.Support;

/// <summary>Tiny job specs (the tiny preset, short sequences, fp32 so runs are bit-reproducible) and watching helpers.</summary>
internal static class Jobs
{
    public static JobSpec Tiny(string dataPath, int epochs = 2, int batch = 4, int maxSteps = 0, int checkpointEvery = 0, GgufExportType export = GgufExportType.None) => new()
    {
        BaseModelPreset = "tiny",
        DatasetPath = dataPath,
        ExportGguf = export,
        Device = "cpu",
        Hyperparameters = new Hyperparameters
        {
            Epochs = epochs,
            LearningRate = 5e-3,
            GlobalBatchSize = batch,
            MicroBatchSize = Math.Min(4, batch),
            MaxLength = 96,
            Seed = 7,
            Bf16 = false,
            MaxSteps = maxSteps,
            CheckpointEverySteps = checkpointEvery,
        },
    };

    /// <summary>Every snapshot WatchJob streams until the job ends (or the timeout fails the test).</summary>
    public static async Task<List<Job>> WatchToEndAsync(TrainerService.TrainerServiceClient client, string jobId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cts.Token);
        var seen = new List<Job>();
        await foreach (var response in call.ResponseStream.ReadAllAsync(cts.Token))
        {
            seen.Add(response.Job);
        }

        return seen;
    }

    /// <summary>Polls GetJob until <paramref name="done"/> holds.</summary>
    public static async Task<Job> WaitForAsync(TrainerService.TrainerServiceClient client, string jobId, Func<Job, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = (await client.GetJobAsync(new GetJobRequest { JobId = jobId })).Job;
            if (done(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Job {jobId} is {job.State} at step {job.Progress?.Step} after {timeout}; error: {job.Error}");
            }

            await Task.Delay(100);
        }
    }

    public static bool Ended(Job job) => job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
