using System.Text;
using Alpaca.Generator.Seeds;
using Alpaca.Reference;

namespace Alpaca.Generator.Prompts;

/// <summary>
/// <c>encode_prompt</c> of stanford_alpaca's generate_instruction.py, exactly:
/// <code>
/// &lt;template&gt;\n
/// ###\n k. Instruction: &lt;instruction'&gt;\n k. Input:\n&lt;input | &lt;noinput&gt;&gt;\n k. Output:\n&lt;output&gt;\n   (k = 1..n)
/// ###\n (n+1). Instruction:
/// </code>
/// where instruction' collapses every whitespace run to one space, strips, then drops trailing colons,
/// and an empty input becomes the literal <c>&lt;noinput&gt;</c>. Input and output are used raw.
/// </summary>
public static class PromptEncoder
{
    public const string NoInput = "<noinput>";

    public static string Encode(PromptTemplate template, IReadOnlyList<SeedTask> examples)
    {
        if (examples.Count == 0)
        {
            // The reference would fail on an unbound loop variable; there is no prompt without examples.
            throw new ArgumentException("A prompt needs at least one example.", nameof(examples));
        }

        var sb = new StringBuilder(template.Text.Length + 512 * examples.Count);
        sb.Append(template.Text).Append('\n');
        for (var i = 0; i < examples.Count; i++)
        {
            var k = i + 1;
            var example = examples[i];
            sb.Append("###\n");
            sb.Append(k).Append(". Instruction: ").Append(NormaliseInstruction(example.Instruction)).Append('\n');
            sb.Append(k).Append(". Input:\n").Append(example.Input.Length == 0 ? NoInput : example.Input).Append('\n');
            sb.Append(k).Append(". Output:\n").Append(example.Output).Append('\n');
        }

        sb.Append("###\n");
        sb.Append(examples.Count + 1).Append(". Instruction:");
        return sb.ToString();
    }

    /// <summary><c>re.sub(r"\s+", " ", instruction).strip().rstrip(":")</c>.</summary>
    public static string NormaliseInstruction(string instruction) =>
        PyStr.Strip(PyRe.CollapseWhitespace(instruction)).TrimEnd(':');
}
