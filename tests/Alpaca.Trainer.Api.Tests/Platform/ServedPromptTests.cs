using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Api;
using Alpaca.Platform;
using Alpaca.TestSupport;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Tokenization;
using Xunit.Abstractions;
using JobHelpers = Alpaca.Trainer.Api.Tests.Support.Jobs;

namespace Alpaca.Trainer.Api.Tests.Platform;

/// <summary>
/// A model is served with the prompt it was trained on, byte for byte, even for instructions that contain
/// the template's own placeholders literally. Records with "{input}" and "{instruction}" in their text are
/// trained through the trainer service, the exported GGUF is auto-loaded by the inference service (both in
/// one embedded platform, in-process bus), and then:
/// • the trainer's prompt string equals what train.py's <c>PROMPT_DICT[...].format_map(example)</c> gives in
///   Python itself (the reference, run in /usr/bin/python3);
/// • the inference service, asked with the same instruction and input, feeds exactly the ids of that string
///   (Tokenize of the Python string gives the trainer tokenizer's ids; Complete with the instruction and
///   Complete with the raw Python string agree on prompt length and every generated token);
/// • and the served model answers with the response it learned under that prompt.
/// A template that pasted the input into an instruction containing "{input}" (two Replace calls) fails the
/// first and second checks.
/// </summary>
public sealed class ServedPromptTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("served-prompt");

    private static readonly AlpacaRecord[] Records =
    [
        new("Explain what {input} and {instruction} mean in a Python format string.", "Keep {instruction} and {input} as they are; {{ is not a brace pair here.", "They are replacement fields that format_map fills from the example."),
        new("Repeat the word {instruction} three times.", "", "{instruction} {instruction} {instruction}"),
        new("Name the primary colors.", "{input}", "Red, yellow and blue."),
    ];

    [Fact]
    public async Task Instructions_with_literal_placeholders_are_served_with_the_prompt_they_were_trained_on()
    {
        // Python's own format_map of train.py's PROMPT_DICT: the golden prompt strings.
        var python = PythonPrompts(Records);
        for (var i = 0; i < Records.Length; i++)
        {
            Assert.Equal(python[i], SupervisedDataset.Source(Records[i]));
        }

        await using var platform = await EmbeddedPlatform.StartAsync([TrainerModule.Instance, InferenceModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.File("state"),
            ExtraSettings = new Dictionary<string, string?>
            {
                ["Alpaca:Trainer:OutputRoot"] = _dir.File("jobs"),
                ["Alpaca:Paths:DataRoots"] = _dir.Path,
                ["Alpaca:Trainer:Threads"] = "2",
                ["Alpaca:Trainer:Device"] = "cpu",
            },
        });
        using var channel = platform.GatewayChannel();
        var trainer = new TrainerService.TrainerServiceClient(channel);
        var inference = new InferenceService.InferenceServiceClient(channel);

        var data = _dir.File("braces.json");
        File.WriteAllText(data, new JsonArray(Records.Select(r => (JsonNode)new JsonObject
        {
            ["instruction"] = r.Instruction,
            ["input"] = r.Input,
            ["output"] = r.Output,
        }).ToArray()).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var spec = JobHelpers.Tiny(data, epochs: 80, batch: 3, export: GgufExportType.F32);
        spec.Hyperparameters.LearningRate = 1e-2;
        spec.ModelName = "alpaca-braces";
        var job = (await trainer.SubmitJobAsync(new SubmitJobRequest { Spec = spec })).Job;
        var final = (await JobHelpers.WatchToEndAsync(trainer, job.Id, TimeSpan.FromMinutes(3)))[^1];
        Assert.True(final.State == JobState.Succeeded, $"{final.State}: {final.Error}");

        // The model-published event makes the inference service load the export.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(await inference.ListModelsAsync(new ListModelsRequest())).Models.Any(m => m.Name == "alpaca-braces" && m.State == ModelState.Ready))
        {
            Assert.True(DateTime.UtcNow < deadline, "the inference service never made the published model ready");
            await Task.Delay(200);
        }

        var tokenizer = PreTrainedTokenizer.Load(final.CheckpointDir);
        for (var i = 0; i < Records.Length; i++)
        {
            var record = Records[i];
            var trainedIds = tokenizer.Encode(python[i]);
            var servedIds = (await inference.TokenizeAsync(new TokenizeRequest { Model = "alpaca-braces", Text = python[i] })).Ids;
            Assert.Equal(trainedIds, servedIds);

            var byInstruction = await CompleteAsync(inference, new GenerateRequest { Instruction = new AlpacaInstruction { Instruction = record.Instruction, Input = record.Input } });
            var byPrompt = await CompleteAsync(inference, new GenerateRequest { Prompt = python[i] });
            output.WriteLine($"record {i}: prompt {byInstruction.Result.Usage.PromptTokens} tokens, answer '{byInstruction.Text}'");
            Assert.Equal(trainedIds.Count, byInstruction.Result.Usage.PromptTokens);
            Assert.Equal(byPrompt.Result.Usage.PromptTokens, byInstruction.Result.Usage.PromptTokens);
            Assert.Equal(byPrompt.Tokens.Select(t => t.Id), byInstruction.Tokens.Select(t => t.Id));
            Assert.StartsWith(record.Output[..12], byInstruction.Text.TrimStart());
        }
    }

    private static async Task<CompleteResponse> CompleteAsync(InferenceService.InferenceServiceClient inference, GenerateRequest request)
    {
        request.Model = "alpaca-braces";
        request.Sampling = new SamplingParameters { Temperature = 0 };
        request.Stopping = new StoppingCriteria { MaxTokens = 24 };
        return await inference.CompleteAsync(new CompleteRequest { Request = request });
    }

    /// <summary>train.py's PROMPT_DICT and its choice of template, run by Python.</summary>
    private static string[] PythonPrompts(IReadOnlyList<AlpacaRecord> records)
    {
        const string script = """
            PROMPT_DICT = {
                "prompt_input": (
                    "Below is an instruction that describes a task, paired with an input that provides further context. "
                    "Write a response that appropriately completes the request.\n\n"
                    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
                ),
                "prompt_no_input": (
                    "Below is an instruction that describes a task. "
                    "Write a response that appropriately completes the request.\n\n"
                    "### Instruction:\n{instruction}\n\n### Response:"
                ),
            }
            for line in lines:
                example = json.loads(s_in(line))
                prompt_input, prompt_no_input = PROMPT_DICT["prompt_input"], PROMPT_DICT["prompt_no_input"]
                source = prompt_input.format_map(example) if example.get("input", "") != "" else prompt_no_input.format_map(example)
                emit(s_out(source))
            """;
        var input = records.Select(r => Python.Hex(new JsonObject { ["instruction"] = r.Instruction, ["input"] = r.Input, ["output"] = r.Output }.ToJsonString()));
        return Python.Run(script, input).Select(Python.FromHex).ToArray();
    }

    public void Dispose() => _dir.Dispose();
}
