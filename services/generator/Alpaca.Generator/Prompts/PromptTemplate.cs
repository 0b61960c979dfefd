using Alpaca.Generator.Seeds;

namespace Alpaca.Generator.Prompts;

/// <summary>
/// The task-description text that opens every prompt (the reference's <c>prompt.txt</c>). Given by path
/// (e.g. the reference prompt), as text, or our own default. The text is used byte for byte, as the
/// reference reads <c>prompt.txt</c>: it should end with the list header (e.g. <c>List of 20 tasks:</c>)
/// and no trailing newline, because the encoder appends one.
/// </summary>
public sealed record PromptTemplate(string Text, string Source)
{
    private const string DefaultResource = "Alpaca.Generator.Prompts.default_prompt.txt";

    private static readonly Lazy<PromptTemplate> LazyDefault = new(LoadDefault);

    /// <summary>Our own prompt (written for this project), with the reference prompt's structure and requirements.</summary>
    public static PromptTemplate Default => LazyDefault.Value;

    public static PromptTemplate FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new GeneratorInputException($"Prompt file {path} does not exist.");
        }

        return FromText(File.ReadAllText(path), path);
    }

    public static PromptTemplate FromText(string text, string source = "inline prompt")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new GeneratorInputException($"Prompt {source} is empty.");
        }

        return new PromptTemplate(text, source);
    }

    private static PromptTemplate LoadDefault()
    {
        using var stream = typeof(PromptTemplate).Assembly.GetManifestResourceStream(DefaultResource)
            ?? throw new InvalidOperationException($"Embedded resource {DefaultResource} is missing from the build.");
        using var reader = new StreamReader(stream);

        // Editors like to add a final newline; the structure needs the text to end at the list header.
        return new PromptTemplate(reader.ReadToEnd().TrimEnd('\r', '\n'), "default prompt");
    }
}
