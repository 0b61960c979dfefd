using System.CommandLine;
using Alpaca.Contracts.V1;
using Grpc.Core;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Models;

/// <summary><c>alpaca models list|load|unload</c>: manage the models of a running platform over gRPC (through the gateway).</summary>
public static class ModelsCommand
{
    public static Command Build()
    {
        var command = new Command("models", "List, load (hot-swap) and unload models of a running inference service.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Load());
        command.Subcommands.Add(Unload());
        return command;
    }

    private static Option<string> Gateway() => new("--gateway") { Description = "Gateway (or inference service) gRPC address.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ALPACA_GATEWAY") ?? "http://127.0.0.1:5080" };

    private static Command List()
    {
        var gateway = Gateway();
        var command = new Command("list", "List models with their state, shape and quantization.") { gateway };
        command.SetAction((ParseResult parse, CancellationToken ct) => Call(parse.GetValue(gateway)!, async client =>
        {
            var reply = await client.ListModelsAsync(new ListModelsRequest(), cancellationToken: ct);
            var table = new Table().AddColumns("name", "state", "default", "quantization", "parameters", "context", "path");
            foreach (var m in reply.Models)
            {
                table.AddRow(Markup.Escape(m.Name), m.State.ToString(), m.IsDefault ? "yes" : "", m.Quantization, m.ParameterCount > 0 ? $"{m.ParameterCount / 1e6:F1}M" : "", m.ContextLength > 0 ? m.ContextLength.ToString(System.Globalization.CultureInfo.InvariantCulture) : "", Markup.Escape(m.Error.Length > 0 ? $"{m.Path} ({m.Error})" : m.Path));
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Load()
    {
        var gateway = Gateway();
        var path = new Argument<string>("path") { Description = "GGUF file, as the inference service sees it; or a Hub reference (org/repo:Q4_K_M, org/repo/FILE.gguf), pulled by this command into the HF cache and loaded from there (the service must share this machine's file system, as the local platform does)." };
        var name = new Option<string?>("--name") { Description = "Name to serve it under (default: the file name). An existing name is hot-swapped." };
        var makeDefault = new Option<bool>("--default") { Description = "Make it the default model." };
        var threads = new Option<int>("--threads") { Description = "Engine threads (0 = the service's setting)." };
        var context = new Option<int>("--context") { Description = "Context length override (0 = the model's)." };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "Chat format: auto (the file's tokenizer.chat_template, else Alpaca), alpaca, model, or @FILE with a Jinja chat template." };
        var draft = new Option<string?>("--draft") { Description = "Speculative decoding: a smaller GGUF of the same vocabulary that proposes tokens for greedy requests (output unchanged), as the service sees it." };
        var draftTokens = new Option<int>("--draft-tokens") { Description = "Draft tokens per step, 1..16 (0 = the service's setting, default 4)." };
        var command = new Command("load", "Load a model; a model already served under the name keeps serving its in-flight requests until the new one is ready.") { gateway, path, name, makeDefault, threads, context, chatTemplate, draft, draftTokens };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            string local;
            try
            {
                local = await Pull.PullCommand.ResolveModelAsync(parse.GetValue(path)!, ct);
            }
            catch (Alpaca.Llm.Hub.HubException e)
            {
                Console.Error.WriteLine("alpaca models: " + e.Message);
                return 2;
            }

            return await Call(parse.GetValue(gateway)!, async client =>
        {
            var reply = await client.LoadModelAsync(
                new LoadModelRequest
                {
                    Path = Path.GetFullPath(local),
                    Name = parse.GetValue(name) ?? "",
                    MakeDefault = parse.GetValue(makeDefault),
                    Threads = parse.GetValue(threads),
                    ContextLength = parse.GetValue(context),
                    ChatTemplate = parse.GetValue(chatTemplate) switch
                    {
                        null or "auto" => "",
                        ['@', .. var file] => File.ReadAllText(file),
                        var choice => choice,
                    },
                    DraftModel = parse.GetValue(draft) is { } d ? Path.GetFullPath(d) : "",
                    DraftTokens = parse.GetValue(draftTokens),
                },
                cancellationToken: ct);
            Console.WriteLine($"loaded {reply.Info.Name}: {reply.Info.State}, {reply.Info.Quantization}, {reply.Info.ParameterCount / 1e6:F1}M parameters, context {reply.Info.ContextLength}, chat template {reply.Info.ChatTemplate}{(reply.Info.DraftModel.Length > 0 ? $", draft {reply.Info.DraftModel} × {reply.Info.DraftTokens}" : "")}{(reply.Info.IsDefault ? ", default" : "")}");
            return 0;
        });
        });
        return command;
    }

    private static Command Unload()
    {
        var gateway = Gateway();
        var name = new Argument<string>("name") { Description = "Model name." };
        var command = new Command("unload", "Unload a model once its in-flight requests finish.") { gateway, name };
        command.SetAction((ParseResult parse, CancellationToken ct) => Call(parse.GetValue(gateway)!, async client =>
        {
            var reply = await client.UnloadModelAsync(new UnloadModelRequest { Model = parse.GetValue(name)! }, cancellationToken: ct);
            Console.WriteLine(reply.Unloaded ? $"unloaded {parse.GetValue(name)}" : $"no model named {parse.GetValue(name)} was loaded");
            return reply.Unloaded ? 0 : 1;
        }));
        return command;
    }

    private static async Task<int> Call(string gateway, Func<InferenceService.InferenceServiceClient, Task<int>> action)
    {
        if (!Uri.TryCreate(gateway, UriKind.Absolute, out var address))
        {
            Console.Error.WriteLine($"alpaca models: --gateway must be an absolute URL, got '{gateway}'.");
            return 2;
        }

        using var channel = CliAuth.Channel(address);
        try
        {
            return await action(new InferenceService.InferenceServiceClient(channel));
        }
        catch (RpcException ex)
        {
            Console.Error.WriteLine($"alpaca models: {ex.StatusCode}: {ex.Status.Detail}");
            return 1;
        }
    }
}
