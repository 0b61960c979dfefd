using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Platform;

/// <summary>A tiny random-weight GGUF model (written by the formats library, nothing downloaded) for the inference service.</summary>
internal static class TinyGguf
{
    public static string Write(TempDir dir)
    {
        var path = dir.File("tiny.gguf");
        TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = TinyModelFactory.Tiny(context: 256), Name = "tiny" }, GgmlType.Q8_0);
        return path;
    }
}
