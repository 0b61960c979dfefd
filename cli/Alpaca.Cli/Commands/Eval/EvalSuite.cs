using System.Text.Json;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>One instruction of the suite, with its reference target and (when given) text-davinci-003's answer.</summary>
internal sealed record EvalItem(string Id, string App, string Instruction, string Input, string Target, string? Davinci);

/// <summary>
/// Reads the Self-Instruct user-oriented suite (<c>id, motivation_app, instruction, instances[{input, output}]</c>,
/// one JSON object a line) and, beside it, text-davinci-003's predictions (<c>instruction, input, response,
/// target</c>), which are in the same order: line i answers item i, checked by instruction text.
/// </summary>
internal static class EvalSuite
{
    public static List<EvalItem> Load(string suitePath, string? predictionsPath)
    {
        var items = new List<EvalItem>();
        foreach (var (line, number) in Lines(suitePath))
        {
            using var doc = Parse(line, suitePath, number);
            var root = doc.RootElement;
            var instance = root.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array && instances.GetArrayLength() > 0
                ? instances[0]
                : throw new InvalidDataException($"{suitePath}: line {number}: no instances[0] (the suite's format is id, motivation_app, instruction, instances[{{input, output}}]).");
            items.Add(new EvalItem(
                Str(root, "id", suitePath, number),
                root.TryGetProperty("motivation_app", out var app) && app.ValueKind == JsonValueKind.String ? app.GetString()! : "",
                Str(root, "instruction", suitePath, number),
                instance.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.String ? input.GetString()! : "",
                Str(instance, "output", suitePath, number),
                null));
        }

        if (items.Count == 0)
        {
            throw new InvalidDataException($"{suitePath}: no items.");
        }

        if (items.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count() != items.Count)
        {
            throw new InvalidDataException($"{suitePath}: ids are not unique.");
        }

        if (predictionsPath is null)
        {
            return items;
        }

        var predictions = Lines(predictionsPath).ToList();
        if (predictions.Count != items.Count)
        {
            throw new InvalidDataException($"{predictionsPath}: {predictions.Count} predictions for {items.Count} suite items; they must be in the same order, one each.");
        }

        for (var i = 0; i < items.Count; i++)
        {
            using var doc = Parse(predictions[i].Line, predictionsPath, predictions[i].Number);
            var instruction = Str(doc.RootElement, "instruction", predictionsPath, predictions[i].Number);
            if (!string.Equals(instruction.Trim(), items[i].Instruction.Trim(), StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{predictionsPath}: line {predictions[i].Number} answers another instruction than {items[i].Id} (the files are not in the same order).");
            }

            items[i] = items[i] with { Davinci = Str(doc.RootElement, "response", predictionsPath, predictions[i].Number) };
        }

        return items;
    }

    private static IEnumerable<(string Line, int Number)> Lines(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"not found: {path}", path);
        }

        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Trim().Length > 0)
            {
                yield return (line, number);
            }
        }
    }

    private static JsonDocument Parse(string line, string path, int number)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: line {number}: invalid JSON: {e.Message}", e);
        }
    }

    private static string Str(JsonElement element, string name, string path, int number) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{path}: line {number}: missing string field '{name}'.");
}
