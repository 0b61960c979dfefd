using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers;

namespace Alpaca.Cli.Commands.Tokenize;

/// <summary>
/// <c>alpaca tokenize bench --model FILE --data alpaca_data.json</c>: encodes and decodes every
/// instruction, input and output on one thread and prints the throughput. A command, not a test: the
/// figures depend on the machine and on what else runs.
/// </summary>
internal static class TokenizeBench
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A .gguf model, tokenizer.json, tokenizer.model or a Hugging Face model folder.", Required = true };
        var data = new Option<string>("--data") { Description = "alpaca_data.json (a JSON array of instruction/input/output records).", Required = true };
        var repeat = new Option<int>("--repeat") { Description = "Timed passes over the data (best one is reported).", DefaultValueFactory = _ => 3 };
        var merger = new Option<string>("--merger") { Description = "Byte-level BPE merges by 'ml' (Microsoft.ML.Tokenizers, default) or 'reference' (the plain llama.cpp loop).", DefaultValueFactory = _ => "ml" };
        var command = new Command("bench", "Measure encode/decode throughput over the Alpaca data (single thread).") { model, data, repeat, merger };
        command.SetAction(parse => TokenizeCommand.Guard(() =>
        {
            var load = Stopwatch.StartNew();
            var vocab = TokenizerFile.Read(parse.GetValue(model)!);
            var tokenizer = parse.GetValue(merger) switch
            {
                "ml" => TokenizerFactory.FromVocabulary(vocab),
                "reference" when vocab.Model == LlamaVocabulary.Gpt2Model => TokenizerFactory.FromVocabulary(vocab, useReferenceMerger: true),
                var other => throw new ArgumentException($"--merger '{other}': use 'ml', or 'reference' with a byte-level BPE (gpt2) model."),
            };
            var loadTime = load.Elapsed;
            var texts = ReadTexts(parse.GetValue(data)!);
            var chars = texts.Sum(t => (long)t.Length);
            var bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));

            var bestEncode = TimeSpan.MaxValue;
            var bestDecode = TimeSpan.MaxValue;
            long tokens = 0;
            var roundTripFailures = 0;
            for (var pass = 0; pass < Math.Max(1, parse.GetValue(repeat)); pass++)
            {
                var encoded = new IReadOnlyList<int>[texts.Count];
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < texts.Count; i++)
                {
                    encoded[i] = tokenizer.Encode(texts[i], addBos: false);
                }

                bestEncode = Min(bestEncode, watch.Elapsed);
                tokens = encoded.Sum(e => (long)e.Count);
                watch.Restart();
                roundTripFailures = 0;
                for (var i = 0; i < texts.Count; i++)
                {
                    var ids = encoded[i] is List<int> list ? System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list) : encoded[i].ToArray();
                    if (tokenizer.Decode(ids) != texts[i])
                    {
                        roundTripFailures++;
                    }
                }

                bestDecode = Min(bestDecode, watch.Elapsed);
            }

            Console.WriteLine($"model: {parse.GetValue(model)} ({vocab.Model}, vocab {tokenizer.VocabSize}, merger {(vocab.Model == LlamaVocabulary.Gpt2Model ? parse.GetValue(merger) : "SentencePiece")}, loaded in {loadTime.TotalMilliseconds:F0} ms)");
            Console.WriteLine($"data: {texts.Count} texts, {chars / 1e6:F2} M chars, {bytes / 1e6:F2} MB UTF-8 -> {tokens} tokens ({(double)bytes / tokens:F2} bytes/token)");
            Console.WriteLine($"encode: {bestEncode.TotalSeconds:F3} s = {bytes / 1e6 / bestEncode.TotalSeconds:F2} MB/s = {tokens / 1e6 / bestEncode.TotalSeconds:F2} M tokens/s (best of {parse.GetValue(repeat)})");
            Console.WriteLine($"decode: {bestDecode.TotalSeconds:F3} s = {tokens / 1e6 / bestDecode.TotalSeconds:F2} M tokens/s (best of {parse.GetValue(repeat)})");
            Console.WriteLine($"round trip failures: {roundTripFailures}");
        }));
        return command;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static List<string> ReadTexts(string path)
    {
        using var stream = File.OpenRead(path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }

        using (doc)
        {
            var texts = new List<string>();
            var index = 0;
            foreach (var record in doc.RootElement.EnumerateArray())
            {
                foreach (var field in new[] { "instruction", "input", "output" })
                {
                    if (!record.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.String)
                    {
                        throw new InvalidDataException($"{path}: record {index} has no string field '{field}'.");
                    }

                    texts.Add(value.GetString()!);
                }

                index++;
            }

            return texts;
        }
    }
}
