using System.CommandLine;
using System.Globalization;
using System.Text;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model;
using Alpaca.Inference.Prompts;
using Alpaca.Inference.Serving;

namespace Alpaca.Cli.Commands.Engine;

/// <summary>
/// <c>alpaca generate</c>: one completion from a GGUF model on the CPU engine, streamed to stdout. It runs
/// the inference service's decode loop (<see cref="LocalGeneration"/>), so every sampling and stopping
/// option means what the service's field of the same name means, and is checked the same way.
/// </summary>
public static class GenerateCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model file (LLaMA architecture; F32/F16/BF16/Q8_0/Q4_0 and Q2_K…Q6_K weights, e.g. llama.cpp's Q4_K_M/Q5_K_M/Q6_K).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "The instruction (with --template alpaca) or the raw prompt text.", Required = true };
        var input = new Option<string?>("--input") { Description = "Optional input for the Alpaca template (the 'with input' template is used when it is not empty)." };
        var template = new Option<string>("--template") { Description = "alpaca (stanford_alpaca's PROMPT_DICT) or raw.", DefaultValueFactory = _ => "alpaca" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Maximum tokens to generate (default 256, shortened to what the context has left)." };
        var minTokens = new Option<int>("--min-tokens") { Description = "Tokens to generate before EOS, a stop token id or a stop sequence may end the completion." };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0.7 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass (1 = off).", DefaultValueFactory = _ => 0.9 };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off).", DefaultValueFactory = _ => 40 };
        var minP = new Option<double>("--min-p") { Description = "Drop tokens below min-p × the top probability (0 = off)." };
        var repeat = new Option<double>("--repeat-penalty") { Description = "Repetition penalty over the last 64 tokens (1 = off).", DefaultValueFactory = _ => 1 };
        var frequency = new Option<double>("--frequency-penalty") { Description = "OpenAI-style frequency penalty." };
        var presence = new Option<double>("--presence-penalty") { Description = "OpenAI-style presence penalty." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for reproducible sampling (default: random; the seed used is printed)." };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequence (repeatable; \\n escapes allowed).", AllowMultipleArgumentsPerToken = false };
        var stopTokenIds = new Option<int[]>("--stop-token-id") { Description = "Token id that ends the completion like EOS (repeatable).", AllowMultipleArgumentsPerToken = false };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating after the end-of-sequence token." };
        var includeStop = new Option<bool>("--include-stop") { Description = "Print the matched stop sequence at the end of the text." };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (0 = one per core).", DefaultValueFactory = _ => 0 };
        var kernels = new Option<string>("--kernels") { Description = "Kernel path: auto, Reference, Portable, Avx2, Avx512Vnni.", DefaultValueFactory = _ => "auto" };
        var logprobs = new Option<bool>("--logprobs") { Description = "Print each token's id, piece and log-probability to stderr after the text." };
        var topLogprobs = new Option<int>("--top-logprobs") { Description = "With each token, its N most likely alternatives (0..20; implies --logprobs)." };
        var draft = new Option<string?>("--draft") { Description = "Speculative decoding: a smaller GGUF of the same vocabulary proposes tokens, the model verifies them (greedy only, --temperature 0; output unchanged)." };
        var draftTokens = new Option<int>("--draft-tokens") { Description = "With --draft: tokens proposed per step, 1..16.", DefaultValueFactory = _ => 4 };
        var quiet = new Option<bool>("--quiet") { Description = "Do not print the finish reason and timing figures to stderr." };

        var command = new Command("generate", "Generate a completion with the CPU inference engine, streaming it to stdout.")
        {
            model, prompt, input, template, maxTokens, minTokens, temperature, topP, topK, minP, repeat, frequency, presence, seed,
            stop, stopTokenIds, ignoreEos, includeStop, threads, kernels, logprobs, topLogprobs, quiet, draft, draftTokens,
        };

        command.SetAction(async (ParseResult parse, CancellationToken cancellationToken) =>
        {
            try
            {
                var wantLogprobs = parse.GetValue(logprobs) || parse.GetValue(topLogprobs) > 0;
                var spec = new GenerationSpec
                {
                    Prompt = PromptTemplates.Apply(parse.GetValue(template)!, parse.GetValue(prompt)!, parse.GetValue(input)),
                    MaxTokens = parse.GetValue(maxTokens),
                    MinTokens = parse.GetValue(minTokens),
                    Temperature = parse.GetValue(temperature),
                    TopK = parse.GetValue(topK),
                    TopP = parse.GetValue(topP),
                    MinP = parse.GetValue(minP),
                    RepetitionPenalty = parse.GetValue(repeat),
                    FrequencyPenalty = parse.GetValue(frequency),
                    PresencePenalty = parse.GetValue(presence),
                    Seed = parse.GetValue(seed),
                    Stop = (parse.GetValue(stop) ?? []).Select(Unescape).ToArray(),
                    StopTokenIds = parse.GetValue(stopTokenIds) ?? [],
                    IgnoreEos = parse.GetValue(ignoreEos),
                    IncludeStopInOutput = parse.GetValue(includeStop),
                    LogProbs = wantLogprobs,
                    TopLogProbs = parse.GetValue(topLogprobs),
                    Names = FieldNames.Cli,
                };
                var options = new ModelOptions { Threads = parse.GetValue(threads), Kernels = CpuKernels.Parse(parse.GetValue(kernels)!) };
                using var generation = new LocalGeneration(parse.GetValue(model)!, options, parse.GetValue(draft), parse.GetValue(draftTokens));
                var stdout = Console.Out;
                var result = await generation.RunAsync(spec, delta =>
                {
                    if (delta.Text.Length > 0)
                    {
                        stdout.Write(delta.Text);
                        stdout.Flush();
                    }
                }, cancellationToken);
                stdout.WriteLine();
                if (wantLogprobs)
                {
                    PrintLogProbs(result, generation.Engine.Tokenizer);
                }

                if (!parse.GetValue(quiet))
                {
                    PrintSummary(result, generation);
                }

                return 0;
            }
            catch (InferenceException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or NotSupportedException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    internal static string Unescape(string s) =>
        s.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal);

    // One line per token: id, piece (escaped, so a line is a token), log-probability, then the alternatives.
    private static void PrintLogProbs(SequenceCompletion result, Alpaca.Tokenizers.ITextTokenizer tokenizer)
    {
        foreach (var token in result.Tokens)
        {
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"{token.Id,6} {Escape(token.Piece),-16} {token.LogProb?.LogProb ?? double.NaN,10:F4}");
            foreach (var alt in token.LogProb?.Top ?? [])
            {
                line.Append(CultureInfo.InvariantCulture, $"  {alt.Token}:{Escape(tokenizer.TokenText(alt.Token).Replace('\u2581', ' '))}={alt.LogProb:F4}");
            }

            Console.Error.WriteLine(line.ToString());
        }
    }

    private static void PrintSummary(SequenceCompletion result, LocalGeneration generation)
    {
        var finished = result.Finished;
        var timer = generation.Timer;
        var model = generation.Engine.Model;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{ReasonName(finished.Reason)}] prompt {finished.PromptTokens} tokens {GenerationTimer.Rate(finished.PromptTokens, timer.TimeToFirstToken):F1} t/s, " +
            $"generated {finished.CompletionTokens} tokens {GenerationTimer.Rate(Math.Max(0, finished.CompletionTokens - 1), timer.DecodeTime):F1} t/s " +
            $"({model.Threads} threads, {(model is Transformer cpu ? cpu.Kernels.ToString() : model.Backend + " " + model.Device)}, seed {finished.Seed})"));
    }

    // The contract's finish reason names (FINISH_REASON_…), lower case.
    internal static string ReasonName(SequenceFinishReason reason) => reason switch
    {
        SequenceFinishReason.Length => "length",
        SequenceFinishReason.StopSequence => "stop_sequence",
        SequenceFinishReason.EndOfSequence => "eos_token",
        _ => "cancelled",
    };

    private static string Escape(string piece)
    {
        var s = new StringBuilder(piece.Length);
        foreach (var c in piece)
        {
            s.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\\' => "\\\\",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return s.ToString();
    }
}
