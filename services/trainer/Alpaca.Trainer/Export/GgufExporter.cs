using Alpaca.Llm.Conversion;
using Alpaca.Llm.Tensors;
using Alpaca.Trainer.Training;

namespace Alpaca.Trainer.Export;

/// <summary>
/// GGUF export of a saved HF checkpoint folder through the LLM core's converter
/// (<see cref="HfToGgufConverter"/>: q/k rows permuted to llama.cpp's rotary layout, tokenizer metadata,
/// F16/Q8_0/Q4_0 blocks), so that our inference engine and llama.cpp read exactly what the platform's
/// converter writes.
/// </summary>
public static class GgufExporter
{
    public static string Export(string hfFolder, GgufExportType type, Action<string>? log = null)
    {
        var ggml = type switch
        {
            GgufExportType.F32 => GgmlType.F32,
            GgufExportType.F16 => GgmlType.F16,
            GgufExportType.Q8_0 => GgmlType.Q8_0,
            GgufExportType.Q4_0 => GgmlType.Q4_0,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No GGUF type to export."),
        };
        var file = Path.Combine(hfFolder, $"model-{type.ToString().ToLowerInvariant()}.gguf");
        HfToGgufConverter.Convert(hfFolder, file, ggml, vocabularyPath: null, log);
        return file;
    }
}
