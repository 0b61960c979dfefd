using System.CommandLine;
using System.Globalization;
using Alpaca.Inference.Generation;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model;
using Alpaca.Inference.Sampling;
using InferenceEngine = Alpaca.Inference.Engine;

namespace Alpaca.Cli.Commands.Engine;

/// <summary><c>alpaca generate</c>: one completion from a GGUF model on the CPU engine, streamed to stdout.</summary>
public static class GenerateCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model file (LLaMA architecture; F32/F16/BF16/Q8_0/Q4_0 weights).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "The instruction (with --template alpaca) or the raw prompt text.", Required = true };
        var input = new Option<string?>("--input") { Description = "Optional input for the Alpaca template (the 'with input' template is used when it is not empty)." };
        var template = new Option<string>("--template") { Description = "alpaca (stanford_alpaca's PROMPT_DICT) or raw.", DefaultValueFactory = _ => "alpaca" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Maximum tokens to generate.", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0.7f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (1 = off).", DefaultValueFactory = _ => 0.9f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off).", DefaultValueFactory = _ => 40 };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p × the top probability (0 = off).", DefaultValueFactory = _ => 0f };
        var repeat = new Option<float>("--repeat-penalty") { Description = "Repetition penalty over the last 64 tokens (1 = off).", DefaultValueFactory = _ => 1f };
        var frequency = new Option<float>("--frequency-penalty") { Description = "OpenAI-style frequency penalty.", DefaultValueFactory = _ => 0f };
        var presence = new Option<float>("--presence-penalty") { Description = "OpenAI-style presence penalty.", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for reproducible sampling (default: random)." };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequence (repeatable; \\n escapes allowed).", AllowMultipleArgumentsPerToken = false };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (0 = one per core).", DefaultValueFactory = _ => 0 };
        var kernels = new Option<string>("--kernels") { Description = "Kernel path: auto, Reference, Portable, Avx2, Avx512Vnni.", DefaultValueFactory = _ => "auto" };
        var logprobs = new Option<bool>("--logprobs") { Description = "Print each token's log-probability to stderr after the text." };
        var quiet = new Option<bool>("--quiet") { Description = "Do not print timing figures to stderr." };

        var command = new Command("generate", "Generate a completion with the CPU inference engine, streaming it to stdout.")
        {
            model, prompt, input, template, maxTokens, temperature, topP, topK, minP, repeat, frequency, presence, seed, stop, threads, kernels, logprobs, quiet,
        };

        command.SetAction((ParseResult parse, CancellationToken cancellationToken) =>
        {
            try
            {
                var sampling = new SamplingParams
                {
                    Temperature = parse.GetValue(temperature),
                    TopP = parse.GetValue(topP),
                    TopK = parse.GetValue(topK),
                    MinP = parse.GetValue(minP),
                    RepetitionPenalty = parse.GetValue(repeat),
                    FrequencyPenalty = parse.GetValue(frequency),
                    PresencePenalty = parse.GetValue(presence),
                    Seed = parse.GetValue(seed),
                }.Validate();
                var text = PromptTemplates.Apply(parse.GetValue(template)!, parse.GetValue(prompt)!, parse.GetValue(input));
                var options = new ModelOptions { Threads = parse.GetValue(threads), Kernels = CpuKernels.Parse(parse.GetValue(kernels)!) };
                using var engine = InferenceEngine.Load(parse.GetValue(model)!, options);
                var request = new GenerationRequest
                {
                    Prompt = text,
                    MaxTokens = parse.GetValue(maxTokens),
                    Sampling = sampling,
                    Stop = (parse.GetValue(stop) ?? []).Select(Unescape).ToArray(),
                    LogProbs = parse.GetValue(logprobs),
                };
                var stdout = Console.Out;
                var result = engine.Generate(request, d =>
                {
                    if (d.Text.Length > 0)
                    {
                        stdout.Write(d.Text);
                        stdout.Flush();
                    }
                }, cancellationToken);
                stdout.WriteLine();
                if (result.LogProbs is { } lps)
                {
                    foreach (var lp in lps)
                    {
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{lp.Token,6} {engine.Tokenizer.TokenText(lp.Token),-16} {lp.LogProb,10:F4}"));
                    }
                }

                if (!parse.GetValue(quiet))
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{result.FinishReason.ToString().ToLowerInvariant()}] prompt {result.PromptTokens} tokens {result.PromptTokensPerSecond:F1} t/s, " +
                        $"generated {result.CompletionTokens} tokens {result.GenerationTokensPerSecond:F1} t/s ({engine.Model.Threads} threads, {engine.Model.Kernels})"));
                }

                return Task.FromResult(0);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or NotSupportedException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    internal static string Unescape(string s) =>
        s.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal);
}
