using System.CommandLine;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Safetensors;

// The namespace is not "…Commands.Convert": that name would shadow System.Convert for every command file.
namespace Alpaca.Cli.Commands.ConvertModels;

/// <summary>
/// <c>alpaca convert --from DIR|FILE --to FILE|DIR --type f16|q8_0|q4_k_m|…</c>: HF checkpoint → GGUF,
/// GGUF → HF folder (when --to is not a .gguf), or GGUF → GGUF re-encoding. Subcommands write tiny random
/// models (<c>convert tiny</c>) and list a model file (<c>convert inspect</c>).
/// </summary>
public static class ConvertCommand
{
    public static Command Build()
    {
        var from = new Option<string>("--from") { Description = "HF model folder (config.json + safetensors) or a .gguf file.", Required = true };
        var to = new Option<string>("--to") { Description = "Destination: a .gguf file, or a folder for an HF checkpoint.", Required = true };
        var type = new Option<string>("--type")
        {
            Description = "Weight type: f32, f16, bf16, q8_0, q4_0, q2_k, q3_k, q4_k, q5_k, q6_k (one type for every 2-D weight), " +
                "or a llama.cpp mixture: q4_k_m, q5_k_m (llama-quantize's per-tensor choice: Q6_K for output.weight and for attn_v/ffn_down " +
                "of the first and last eighth of the layers and every third between). K-quant blocks are byte-identical to ggml's reference quantizer. " +
                "Rows that are not whole 256-weight super-blocks fall back to Q8_0 (Q4_0 for q2_k/q3_k), then F16. Norms stay F32. HF output: f32, f16, bf16.",
            DefaultValueFactory = _ => "f16",
        };
        var vocab = new Option<string?>("--vocab") { Description = "Vocabulary to embed when the HF folder has none: a .gguf, tokenizer.model or tokenizer.json." };
        var shard = new Option<long>("--max-shard-mb")
        {
            Description = "HF output: largest safetensors shard in MB before splitting with an index.",
            DefaultValueFactory = _ => 5000,
        };

        var command = new Command("convert", "Convert LLaMA models between Hugging Face checkpoints and GGUF (F32/F16/BF16/Q8_0/Q4_0, K-quants, Q4_K_M/Q5_K_M), or re-encode a GGUF.")
        {
            from, to, type, vocab, shard,
        };
        command.SetAction((ParseResult pr) => Guard(() =>
        {
            var report = ModelConverter.Convert(
                pr.GetValue(from)!, pr.GetValue(to)!, pr.GetValue(type)!, pr.GetValue(vocab),
                pr.GetValue(shard) * 1_000_000, message => Console.Error.WriteLine("  " + message));
            Console.WriteLine(report);
        }));
        command.Subcommands.Add(TinyModelCommand.Build());
        command.Subcommands.Add(InspectCommand.Build());
        command.Subcommands.Add(CodecBenchCommand.Build());
        return command;
    }

    /// <summary>Bad input prints one line naming the file/field and exits 2; nothing crashes.</summary>
    internal static int Guard(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception ex) when (ex is GgufFormatException or SafetensorsFormatException or InvalidDataException
            or FileNotFoundException or DirectoryNotFoundException or ArgumentException or NotSupportedException
            or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("alpaca convert: " + ex.Message);
            return 2;
        }
    }
}
