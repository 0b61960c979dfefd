using System.Text.Json;

namespace Alpaca.Generator.Seeds;

/// <summary>
/// Reads the reference's <c>seed_tasks.jsonl</c>: one JSON object per line with <c>instruction</c> and
/// <c>instances[0].input/output</c> (flat <c>input</c>/<c>output</c> fields are accepted too). Every
/// malformed line is reported at once, each by its 1-based line number and field.
/// </summary>
public static class SeedTaskReader
{
    /// <summary>Reads and validates a seed file; throws <see cref="GeneratorInputException"/> listing every bad line.</summary>
    public static IReadOnlyList<SeedTask> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new GeneratorInputException($"Seed file {path} does not exist.");
        }

        return Parse(File.ReadAllLines(path), path);
    }

    /// <summary>Parses seed lines; <paramref name="source"/> names them in errors.</summary>
    public static IReadOnlyList<SeedTask> Parse(IReadOnlyList<string> lines, string source)
    {
        var seeds = new List<SeedTask>(lines.Count);
        var errors = new List<string>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line))
            {
                // Blank lines (a trailing newline, an editor's empty last line) carry no task.
                continue;
            }

            var at = $"{source} line {i + 1}";
            try
            {
                seeds.Add(ParseLine(line, at, seeds.Count));
            }
            catch (JsonException e)
            {
                errors.Add($"{at}: not valid JSON ({e.Message})");
            }
            catch (GeneratorInputException e)
            {
                errors.Add(e.Message);
            }
        }

        if (errors.Count > 0)
        {
            var shown = errors.Take(20).ToList();
            var more = errors.Count > shown.Count ? $"\n... and {errors.Count - shown.Count} more" : "";
            throw new GeneratorInputException($"{errors.Count} malformed seed line(s):\n{string.Join('\n', shown)}{more}");
        }

        if (seeds.Count == 0)
        {
            throw new GeneratorInputException($"{source} holds no seed tasks.");
        }

        return seeds;
    }

    private static SeedTask ParseLine(string line, string at, int ordinal)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new GeneratorInputException($"{at}: expected a JSON object, found {root.ValueKind}.");
        }

        var instruction = RequiredString(root, "instruction", at);
        if (string.IsNullOrWhiteSpace(instruction))
        {
            throw new GeneratorInputException($"{at}: field 'instruction' is empty.");
        }

        var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
            ? idElement.GetString()!
            : $"seed_{ordinal}";

        if (root.TryGetProperty("instances", out var instances))
        {
            if (instances.ValueKind != JsonValueKind.Array || instances.GetArrayLength() == 0)
            {
                throw new GeneratorInputException($"{at}: field 'instances' must be a non-empty array.");
            }

            var first = instances[0];
            if (first.ValueKind != JsonValueKind.Object)
            {
                throw new GeneratorInputException($"{at}: field 'instances[0]' must be an object.");
            }

            return new SeedTask(id, instruction, RequiredString(first, "input", at, "instances[0]."), RequiredString(first, "output", at, "instances[0]."));
        }

        if (root.TryGetProperty("output", out _))
        {
            var input = root.TryGetProperty("input", out _) ? RequiredString(root, "input", at) : "";
            return new SeedTask(id, instruction, input, RequiredString(root, "output", at));
        }

        throw new GeneratorInputException($"{at}: field 'instances' is missing (or give flat 'input'/'output').");
    }

    private static string RequiredString(JsonElement obj, string name, string at, string prefix = "")
    {
        if (!obj.TryGetProperty(name, out var value))
        {
            throw new GeneratorInputException($"{at}: field '{prefix}{name}' is missing.");
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new GeneratorInputException($"{at}: field '{prefix}{name}' must be a string, found {value.ValueKind}.");
    }
}
