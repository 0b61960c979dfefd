using System.CommandLine;
using Alpaca.Llm.Hub;

namespace Alpaca.Cli.Commands.Pull;

/// <summary>
/// <c>alpaca pull REF</c>: a GGUF (<c>org/repo:Q4_K_M</c>, <c>org/repo/file.gguf</c>) or a safetensors repository
/// (<c>org/repo</c>) from the Hugging Face Hub into huggingface_hub's cache; prints the local path on stdout.
/// </summary>
public static class PullCommand
{
    public static Command Build()
    {
        var reference = new Argument<string>("reference")
        {
            Description = "org/repo[@rev] (safetensors model), org/repo[@rev]:QUANT (the GGUF of that quantization) or org/repo[@rev]/FILE.",
        };
        var command = new Command("pull", "Download a model from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN, HF_HOME) into the shared huggingface_hub cache.") { reference };
        command.SetAction(async (parse, ct) =>
        {
            if (!HubReference.TryParse(parse.GetValue(reference)!, out var r, out var error))
            {
                Console.Error.WriteLine("alpaca pull: " + error);
                return 2;
            }

            try
            {
                var result = await PullProgressView.RunAsync(r, ct);
                Console.Error.WriteLine(result.ToString());
                Console.WriteLine(result.Path);
                return 0;
            }
            catch (HubException e)
            {
                Console.Error.WriteLine("alpaca pull: " + e.Message);
                return 2;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"alpaca pull: {e.Message} (run the same command again: the download resumes)");
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// For options that name a model (<c>up --model</c>, <c>models load</c>, <c>train --base</c>): a Hub reference is pulled
    /// here and its local path used; a local path passes through. Errors are <see cref="HubException"/>s for the caller to print.
    /// </summary>
    public static Task<string> ResolveModelAsync(string model, CancellationToken ct) =>
        HubPuller.ResolveAsync(model, line => Console.Error.WriteLine(line), null, ct);
}
