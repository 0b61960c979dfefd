using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Cli.Commands.ConvertModels;

/// <summary><c>alpaca convert tiny</c>: writes a random-weight LLaMA (GGUF file or HF folder) of a named or custom shape.</summary>
internal static class TinyModelCommand
{
    public static Command Build()
    {
        var to = new Option<string>("--to") { Description = "A .gguf file, or a folder for an HF checkpoint.", Required = true };
        var shape = new Option<string>("--shape")
        {
            Description = "stories15M, stories110M, tinyllama-1.1B, tiny, or custom DIM,LAYERS,HEADS,KV_HEADS,FFN,VOCAB,CTX.",
            DefaultValueFactory = _ => "tiny",
        };
        var type = new Option<string>("--type") { Description = "f32, f16, bf16, q8_0, q4_0, q2_k … q6_k, q4_k_m, q5_k_m (as convert --type; HF: f32, f16, bf16).", DefaultValueFactory = _ => "f32" };
        var seed = new Option<int>("--seed") { Description = "Seed mixed with each tensor name.", DefaultValueFactory = _ => 1234 };
        var command = new Command("tiny", "Write a random-weight LLaMA model with a byte-fallback SentencePiece vocabulary (nothing is downloaded).")
        {
            to, shape, type, seed,
        };
        command.SetAction((ParseResult pr) => ConvertCommand.Guard(() =>
        {
            var clock = Stopwatch.StartNew();
            var spec = new TinyModelSpec { Config = ParseShape(pr.GetValue(shape)!), Seed = pr.GetValue(seed), Name = "tiny-" + pr.GetValue(shape) };
            var path = pr.GetValue(to)!;
            var typeName = pr.GetValue(type)!;
            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                TinyModelFactory.WriteGguf(path, spec, WeightRecipe.Parse(typeName));
            }
            else
            {
                var dtype = typeName.ToLowerInvariant() switch
                {
                    "f32" => SafetensorsDType.F32,
                    "f16" => SafetensorsDType.F16,
                    "bf16" => SafetensorsDType.BF16,
                    _ => throw new ArgumentException($"--type {typeName}: an HF folder holds f32, f16 or bf16 weights."),
                };
                TinyModelFactory.WriteHf(path, spec, dtype);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {path}: {spec.Config.ParameterCount / 1e6:F1} M parameters, {typeName}, in {clock.Elapsed.TotalSeconds:F1} s"));
        }));
        return command;
    }

    private static LlamaConfig ParseShape(string shape)
    {
        if (!shape.Contains(','))
        {
            return TinyModelFactory.Shape(shape);
        }

        var p = shape.Split(',').Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"--shape: '{s}' is not a positive integer.")).ToArray();
        if (p.Length != 7)
        {
            throw new ArgumentException("--shape: a custom shape is DIM,LAYERS,HEADS,KV_HEADS,FFN,VOCAB,CTX (7 numbers).");
        }

        return new LlamaConfig { Dim = p[0], NLayers = p[1], NHeads = p[2], NKvHeads = p[3], FfnDim = p[4], VocabSize = p[5], ContextLength = p[6] }.Validate();
    }
}
