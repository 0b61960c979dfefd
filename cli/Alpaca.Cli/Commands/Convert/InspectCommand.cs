using System.CommandLine;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Cli.Commands.ConvertModels;

/// <summary><c>alpaca convert inspect FILE</c>: prints a GGUF's metadata and tensors, or a safetensors header.</summary>
internal static class InspectCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("file") { Description = "A .gguf or .safetensors file, or an HF model folder." };
        var command = new Command("inspect", "List the metadata and tensors of a model file (validating it).") { file };
        command.SetAction((ParseResult pr) => ConvertCommand.Guard(() =>
        {
            var path = pr.GetValue(file)!;
            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                PrintGguf(path);
            }
            else
            {
                PrintSafetensors(path);
            }
        }));
        return command;
    }

    private static void PrintGguf(string path)
    {
        using var g = GgufFile.Open(path);
        Console.WriteLine($"GGUF v{g.Version}, alignment {g.Alignment}, data at {g.DataOffset}, {g.Metadata.Count} keys, {g.Tensors.Count} tensors");
        foreach (var (key, value) in g.Metadata)
        {
            var text = value.ToString();
            Console.WriteLine($"  {key} = {(text.Length > 80 ? text[..80] + "…" : text)}");
        }

        foreach (var t in g.Tensors)
        {
            Console.WriteLine($"  {t.Name,-28} {t.Type,-5} [{string.Join(", ", t.Shape)}] {t.ByteSize} B @ {t.Offset}");
        }

        if (g.Architecture == "llama")
        {
            Console.WriteLine("  config: " + LlamaConfig.FromGguf(g));
        }
    }

    private static void PrintSafetensors(string path)
    {
        using var c = SafetensorsCheckpoint.Open(path);
        Console.WriteLine($"{c.Files.Count} safetensors file(s), {c.TensorNames.Count} tensors");
        foreach (var name in c.TensorNames)
        {
            Console.WriteLine($"  {c.GetInfo(name)}");
        }
    }
}
