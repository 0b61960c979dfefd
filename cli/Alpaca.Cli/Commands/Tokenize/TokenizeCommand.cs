using System.CommandLine;
using Alpaca.Tokenizers;

namespace Alpaca.Cli.Commands.Tokenize;

/// <summary>
/// <c>alpaca tokenize --model FILE --text TEXT</c>: the token ids of a text, space-separated on one line
/// (BOS included when the model adds it), exactly as llama.cpp would tokenize it.
/// <c>alpaca tokenize bench</c> measures encode/decode throughput on the Alpaca data.
/// </summary>
public static class TokenizeCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A .gguf model, a tokenizer.json, a SentencePiece tokenizer.model or a Hugging Face model folder.", Required = true };
        var text = new Option<string>("--text") { Description = "The text to tokenize.", Required = true };
        var parseSpecial = new Option<bool>("--parse-special") { Description = "Treat special-token text such as <s> as that token." };
        var noBos = new Option<bool>("--no-bos") { Description = "Leave out BOS even when the model adds it." };
        var command = new Command("tokenize", "Print the token ids of a text (space-separated, one line), as llama.cpp tokenizes it.")
        {
            model, text, parseSpecial, noBos,
        };
        command.SetAction(parse => Guard(() =>
        {
            var tokenizer = TokenizerFactory.FromFile(parse.GetValue(model)!);
            var ids = tokenizer.Encode(parse.GetValue(text)!, addBos: tokenizer.AddBosByDefault && !parse.GetValue(noBos), parse.GetValue(parseSpecial));
            Console.Out.WriteLine(string.Join(' ', ids));
        }));
        command.Subcommands.Add(TokenizeBench.Build());
        return command;
    }

    /// <summary>Bad input ends with one clear line on stderr and exit code 2, never a stack trace.</summary>
    internal static int Guard(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException or InvalidOperationException or UnauthorizedAccessException or Llm.Gguf.GgufFormatException)
        {
            Console.Error.WriteLine("alpaca tokenize: " + e.Message);
            return 2;
        }
    }
}
