using System.Text;
using Alpaca.Reference;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary>
/// One JSON object of an input file, kept as its top-level properties' raw (minified) UTF-8 so it can be
/// written back unchanged with fields added. Strings are decoded leniently, as Python's <c>json</c> does:
/// a lone surrogate escape such as <c>\ud800</c> becomes that UTF-16 unit (System.Text.Json refuses it).
/// </summary>
public sealed class JsonRecord(string path, int line, int index, List<JsonRecord.Property> properties)
{
    /// <summary>A property: decoded name, raw name with quotes, raw value (minified).</summary>
    public sealed record Property(string Name, byte[] RawName, byte[] RawValue);

    public string Path { get; } = path;

    /// <summary>1-based line where the object starts.</summary>
    public int Line { get; } = line;

    /// <summary>0-based record number in the file.</summary>
    public int Index { get; } = index;

    /// <summary>The string value of a top-level field, or an error naming the file and line.</summary>
    public string RequiredString(string name)
    {
        // Python's json keeps the last of repeated keys.
        var property = properties.LastOrDefault(p => p.Name == name);
        if (property is null || property.RawValue.Length == 0 || property.RawValue[0] != (byte)'"')
        {
            throw new InputException($"{Path}:{Line}: record {Index + 1} has no string field '{name}'");
        }

        return PyJson.DecodeString(property.RawValue);
    }

    /// <summary>The object as one line of UTF-8 JSON with <paramref name="added"/> fields replacing any of the same name.</summary>
    public void WriteWith(Stream output, IReadOnlyList<(string Name, string RawValue)> added)
    {
        output.WriteByte((byte)'{');
        var first = true;
        foreach (var p in properties)
        {
            if (added.Any(a => a.Name == p.Name))
            {
                continue;
            }

            if (!first)
            {
                output.WriteByte((byte)',');
            }

            first = false;
            output.Write(p.RawName);
            output.WriteByte((byte)':');
            output.Write(p.RawValue);
        }

        foreach (var (name, raw) in added)
        {
            if (!first)
            {
                output.WriteByte((byte)',');
            }

            first = false;
            output.Write(Encoding.UTF8.GetBytes(PyJson.EncodeString(name, ensureAscii: false) + ":" + raw));
        }

        output.Write("}\n"u8);
    }
}
