using System.CommandLine;
using System.Globalization;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Training;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Train;

/// <summary>
/// <c>alpaca train</c>: supervised fine-tuning exactly as stanford_alpaca's train.py (optionally LoRA),
/// resumable from the checkpoints in --out; <c>alpaca train --gateway URL</c>: the same job submitted to the
/// platform's trainer service and watched; <c>alpaca train --bench</c>: training throughput figures.
/// </summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var defaults = new TrainingHyperparameters();
        var baseModel = new Option<string?>("--base") { Description = "Hugging Face checkpoint folder (config.json, safetensors, tokenizer.model or tokenizer.json), a Hub repository org/repo[@rev] (pulled into the HF cache first), or 'tiny' for a random ~4M-parameter LLaMA with a tokenizer learned from --data." };
        var data = new Option<string?>("--data") { Description = "Instruction data: alpaca_data.json format or JSON Lines." };
        var output = new Option<string?>("--out") { Description = "Output folder (HF checkpoint, adapter/, checkpoints/, GGUF). Re-running with the same folder resumes." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => defaults.Epochs };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (cosine schedule, 3% warm-up).", DefaultValueFactory = _ => defaults.LearningRate };
        var batch = new Option<int>("--batch-size") { Description = "Global batch size in examples (gradient accumulation reaches it).", DefaultValueFactory = _ => defaults.GlobalBatchSize };
        var micro = new Option<int>("--micro-batch") { Description = "Examples per forward pass (memory/speed only; the result does not depend on it).", DefaultValueFactory = _ => defaults.MicroBatchSize };
        var maxLen = new Option<int>("--max-len") { Description = "Maximum tokens per example (longer ones are truncated).", DefaultValueFactory = _ => defaults.MaxLength };
        var warmup = new Option<double>("--warmup-ratio") { Description = "Warm-up share of the steps.", DefaultValueFactory = _ => defaults.WarmupRatio };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => defaults.WeightDecay };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, data order and dropout.", DefaultValueFactory = _ => defaults.Seed };
        var precision = new Option<string>("--precision") { Description = "auto (bf16 where supported), fp32 or bf16.", DefaultValueFactory = _ => "auto" };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Save a resumable checkpoint every N steps.", DefaultValueFactory = _ => defaults.CheckpointEverySteps };
        var groupByLength = new Option<bool>("--group-by-length") { Description = "Sort each step's examples by length into micro-batches (less padding)." };
        var packing = new Option<bool>("--packing") { Description = "Pack examples into max-len rows, attention kept inside each example." };
        var maxSteps = new Option<int>("--max-steps") { Description = "Stop after N optimizer steps (the schedule spans them).", DefaultValueFactory = _ => 0 };
        var maxRecords = new Option<int>("--max-records") { Description = "Use only the first N records.", DefaultValueFactory = _ => 0 };
        var lora = new Option<bool>("--lora") { Description = "Train LoRA adapters (alpaca-lora defaults) instead of all weights." };
        var loraR = new Option<int>("--lora-r") { Description = "LoRA rank.", DefaultValueFactory = _ => 8 };
        var loraAlpha = new Option<double>("--lora-alpha") { Description = "LoRA alpha.", DefaultValueFactory = _ => 16 };
        var loraDropout = new Option<double>("--lora-dropout") { Description = "LoRA dropout.", DefaultValueFactory = _ => 0.05 };
        var loraTargets = new Option<string>("--lora-targets") { Description = "Comma-separated projections.", DefaultValueFactory = _ => "q_proj,v_proj" };
        var noMerge = new Option<bool>("--no-merge") { Description = "With --lora: keep the exported model as the base weights (adapter saved separately)." };
        var gguf = new Option<string?>("--export-gguf") { Description = "Also export GGUF: f32, f16, q8_0 or q4_0." };
        var gateway = new Option<string?>("--gateway") { Description = "Submit the job to a running platform (gateway gRPC URL, e.g. http://127.0.0.1:5080) and watch it, instead of training here. Paths must be readable by the trainer service." };
        var jobId = new Option<string?>("--job-id") { Description = "With --gateway: the job's id; an existing id attaches to that job instead of submitting another." };
        var datasetId = new Option<string?>("--dataset-id") { Description = "With --gateway: train on a data set the generator published, instead of --data." };
        var modelName = new Option<string?>("--model-name") { Description = "With --gateway: the name the model is published under (default: the job id)." };
        var detach = new Option<bool>("--detach") { Description = "With --gateway: submit, print the job id and exit without watching." };
        var bench = new Option<bool>("--bench") { Description = "Measure training tokens/s and GFLOP/s for the 15M and 110M shapes instead of training." };
        var benchSteps = new Option<int>("--bench-steps") { Description = "Measured steps per benchmark row (plus one warm-up).", DefaultValueFactory = _ => 3 };
        var benchShapes = new Option<string>("--bench-shapes") { Description = "Comma-separated shapes: 15M, 110M.", DefaultValueFactory = _ => "15M,110M" };

        var command = new Command("train", "Fine-tune a LLaMA model on instruction data exactly as Stanford Alpaca's train.py (TorchSharp).")
        {
            baseModel, data, output, epochs, lr, batch, micro, maxLen, warmup, weightDecay, seed, precision, device, threads,
            checkpointEvery, groupByLength, packing, maxSteps, maxRecords, lora, loraR, loraAlpha, loraDropout, loraTargets, noMerge, gguf,
            gateway, jobId, datasetId, modelName, detach, bench, benchSteps, benchShapes,
        };

        command.SetAction(async (ParseResult parse, CancellationToken cancellationToken) =>
        {
            try
            {
                if (parse.GetValue(bench))
                {
                    var shapes = parse.GetValue(benchShapes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    return TrainBenchView.Run(shapes, parse.GetValue(benchSteps), parse.GetValue(threads));
                }

                var remote = parse.GetValue(gateway);
                var dataset = parse.GetValue(datasetId);
                var spec = new TrainingJobSpec
                {
                    // A Hub reference (org/repo[@rev]) is pulled here first: the safetensors snapshot folder is the base.
                    BaseModel = await Pull.PullCommand.ResolveModelAsync(
                        parse.GetValue(baseModel) ?? throw new ArgumentException("--base is required (a checkpoint folder, a Hub org/repo, or 'tiny')."), cancellationToken),
                    DataPath = parse.GetValue(data) ?? (remote is not null && dataset is not null ? "" : throw new ArgumentException("--data is required.")),
                    // The service picks an output folder of its own when none is given.
                    OutputDir = parse.GetValue(output) ?? (remote is not null ? "" : throw new ArgumentException("--out is required.")),
                    Device = parse.GetValue(device)!,
                    Threads = parse.GetValue(threads),
                    MaxRecords = parse.GetValue(maxRecords),
                    ExportGguf = ParseGguf(parse.GetValue(gguf)),
                    Lora = parse.GetValue(lora)
                        ? new LoraSettings
                        {
                            R = parse.GetValue(loraR),
                            Alpha = parse.GetValue(loraAlpha),
                            Dropout = parse.GetValue(loraDropout),
                            TargetModules = parse.GetValue(loraTargets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                            MergeOnExport = !parse.GetValue(noMerge),
                        }
                        : null,
                    Hyperparameters = defaults with
                    {
                        Epochs = parse.GetValue(epochs),
                        LearningRate = parse.GetValue(lr),
                        GlobalBatchSize = parse.GetValue(batch),
                        MicroBatchSize = parse.GetValue(micro),
                        MaxLength = parse.GetValue(maxLen),
                        WarmupRatio = parse.GetValue(warmup),
                        WeightDecay = parse.GetValue(weightDecay),
                        Seed = parse.GetValue(seed),
                        Precision = ParsePrecision(parse.GetValue(precision)!),
                        CheckpointEverySteps = parse.GetValue(checkpointEvery),
                        GroupByLength = parse.GetValue(groupByLength),
                        Packing = parse.GetValue(packing),
                        MaxSteps = parse.GetValue(maxSteps),
                    },
                };

                if (remote is not null)
                {
                    if (!Uri.TryCreate(remote, UriKind.Absolute, out var address))
                    {
                        throw new ArgumentException($"--gateway must be an absolute URL, got '{remote}'.");
                    }

                    return await RemoteTrainView.RunAsync(address, RemoteJobSpec.From(spec, dataset, parse.GetValue(modelName)), parse.GetValue(jobId), parse.GetValue(detach), cancellationToken);
                }

                if (dataset is not null || parse.GetValue(jobId) is not null || parse.GetValue(detach))
                {
                    throw new ArgumentException("--dataset-id, --job-id and --detach need --gateway.");
                }

                var result = await TrainProgressView.RunAsync(spec, cancellationToken);
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                    "[green]done[/]: {0} steps ({1}), final loss {2:F4}; model in [bold]{3}[/]{4}{5}",
                    result.Steps, result.Precision, result.FinalLoss, Markup.Escape(result.ModelDir),
                    result.AdapterDir is null ? string.Empty : ", adapter in " + Markup.Escape(result.AdapterDir),
                    result.GgufPath is null ? string.Empty : ", GGUF " + Markup.Escape(result.GgufPath));
                return 0;
            }
            catch (Alpaca.Llm.Hub.HubException e)
            {
                Console.Error.WriteLine("alpaca train: " + e.Message);
                return 2;
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]stopped[/]: run the same command again to resume from the last checkpoint.");
                return 130;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                                           or InvalidOperationException or NotSupportedException or IOException
                                           or System.Runtime.InteropServices.ExternalException)
            {
                AnsiConsole.MarkupLine("[red]error[/]: " + Markup.Escape(e.Message));
                return 1;
            }
        });
        return command;
    }

    private static PrecisionMode ParsePrecision(string value) => value.Trim().ToLowerInvariant() switch
    {
        "auto" => PrecisionMode.Auto,
        "fp32" or "float32" => PrecisionMode.Float32,
        "bf16" or "bfloat16" => PrecisionMode.BFloat16,
        _ => throw new ArgumentException($"--precision must be auto, fp32 or bf16; got '{value}'."),
    };

    private static GgufExportType ParseGguf(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "none" => GgufExportType.None,
        "f32" => GgufExportType.F32,
        "f16" => GgufExportType.F16,
        "q8_0" => GgufExportType.Q8_0,
        "q4_0" => GgufExportType.Q4_0,
        _ => throw new ArgumentException($"--export-gguf must be f32, f16, q8_0 or q4_0; got '{value}'."),
    };
}
