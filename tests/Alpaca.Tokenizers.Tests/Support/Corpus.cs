using System.Text.Json;
using Alpaca.Llm.Prompts;
using Alpaca.TestSupport;

namespace Alpaca.Tokenizers.Tests.Support;

/// <summary>Texts from the shared Alpaca data (read by path, never copied) plus hand-picked hard cases.</summary>
public static class Corpus
{
    private static readonly Lazy<IReadOnlyList<(string Instruction, string Input, string Output)>> LazyRecords = new(LoadRecords);

    /// <summary>All 52,002 records of alpaca_data.json.</summary>
    public static IReadOnlyList<(string Instruction, string Input, string Output)> AlpacaRecords => LazyRecords.Value;

    /// <summary>Whitespace runs, newlines, tabs, non-ASCII, emoji, CJK, combining marks, special-token lookalikes.</summary>
    public static IReadOnlyList<string> HardCases { get; } =
    [
        "Hello world!",
        " leading space",
        "  two leading spaces",
        "trailing space ",
        "many     spaces   inside",
        "\n",
        "line one\nline two\n\nafter blank line\n",
        "\ttab\tseparated\t",
        "\r\nwindows\r\nlines",
        "Ünïcödé façade naïve café — “quotes” ‘single’ … ellipsis",
        "日本語のテキストと中文文本",
        "Emoji 😀🎉👍🏽 and family 👨‍👩‍👧‍👦 and flags 🇫🇷",
        "Combining: e\u0301 a\u0308 Zalgo z\u0351\u0352\u0353",
        "Math 𝐀𝐁𝐂 𝟙𝟚𝟛 and Gothic 𐌰𐌱",
        "Numbers 1234567890 3.14159 1,000,000 -42 2023-05-17",
        "Code: for (int i = 0; i < n; i++) { sum += a[i]; } // done",
        "It's, they're, we've, I'm, she'll, he'd, IT'S, THEY'RE",
        "<s> not a special token </s> <unk>",
        "Mixed\u00a0no-break\u2003em-space\u3000ideographic",
        "x",
        "",
    ];

    /// <summary>
    /// About 300 instructions for the llama.cpp conformance tests: every user-oriented instruction (with
    /// its first instance input), evenly spaced Alpaca records, and the hard cases.
    /// </summary>
    public static IReadOnlyList<string> OracleTexts()
    {
        var texts = new List<string>();
        foreach (var line in File.ReadLines(RepoPaths.Data("user_oriented_instructions.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            texts.Add(root.GetProperty("instruction").GetString()!);
            if (root.TryGetProperty("instances", out var instances) && instances.GetArrayLength() > 0 &&
                instances[0].GetProperty("input").GetString() is { Length: > 0 } input)
            {
                texts.Add(input);
            }
        }

        var records = AlpacaRecords;
        for (var i = 0; i < records.Count; i += records.Count / 60)
        {
            var (instruction, input, output) = records[i];
            texts.Add(instruction);
            texts.Add(Alpaca(instruction, input, output));
            texts.Add(TrainingText(instruction, input, output));
        }

        texts.AddRange(HardCases);
        return texts;
    }

    /// <summary>
    /// A record as train.py tokenizes it: the Alpaca prompt (its "### Instruction:" headers put ties between
    /// equal-scoring SentencePiece pairs, which must break leftmost) followed by the output.
    /// </summary>
    public static string TrainingText(string instruction, string input, string output) => AlpacaPrompt.Build(instruction, input) + output;

    /// <summary>A record as one plain text: instruction, input and output joined by blank lines.</summary>
    public static string Alpaca(string instruction, string input, string output) =>
        input.Length == 0 ? $"{instruction}\n\n{output}" : $"{instruction}\n\n{input}\n\n{output}";

    private static IReadOnlyList<(string, string, string)> LoadRecords()
    {
        using var stream = File.OpenRead(RepoPaths.Data("alpaca_data.json"));
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.EnumerateArray()
            .Select(r => (r.GetProperty("instruction").GetString()!, r.GetProperty("input").GetString()!, r.GetProperty("output").GetString()!))
            .ToList();
    }
}
