using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.Cli.Commands.GenerateData;

/// <summary>
/// For the benchmark only: an OpenAI-compatible <c>/v1/completions</c> endpoint on 127.0.0.1 that answers
/// every prompt at once with the next real records of a data file, written in the reference's numbered
/// format (items 4–19, as text-davinci-003 answered). It takes the teacher's latency out of the figures so
/// that they show the pipeline's own cost: HTTP, parsing, filters, ROUGE-L dedup and the fsync'ed log.
/// </summary>
internal sealed class ReplayTeacher : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyList<(string Instruction, string Input, string Output)> _records;
    private int _next;

    public ReplayTeacher(IReadOnlyList<(string Instruction, string Input, string Output)> records)
    {
        _records = records;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/v1/completions", Answer);
        _app.StartAsync().GetAwaiter().GetResult();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
    }

    public Uri BaseUrl { get; }

    /// <summary>The reply a teacher gives after "4. Instruction:": items 4..19, then the stop at "\n20".</summary>
    public static string Reply(IReadOnlyList<(string Instruction, string Input, string Output)> records, ref int next)
    {
        var sb = new StringBuilder();
        for (var n = 4; n < 20; n++)
        {
            var (instruction, input, output) = records[next++ % records.Count];
            sb.Append(n == 4 ? " " : $"\n###\n{n}. Instruction: ").Append(instruction)
                .Append('\n').Append(n).Append(". Input:\n").Append(input.Length == 0 ? "<noinput>" : input)
                .Append('\n').Append(n).Append(". Output:\n").Append(output).Append('\n');
        }

        return sb.Append("###\n").ToString();
    }

    private async Task Answer(HttpContext ctx)
    {
        var body = (await JsonNode.ParseAsync(ctx.Request.Body))!;
        var prompts = body["prompt"] is JsonArray list ? list.Count : 1;
        var choices = new JsonArray();
        for (var i = 0; i < prompts; i++)
        {
            string text;
            lock (_records)
            {
                text = Reply(_records, ref _next);
            }

            choices.Add(new JsonObject { ["index"] = i, ["text"] = text, ["finish_reason"] = "stop" });
        }

        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(new JsonObject
        {
            ["object"] = "text_completion",
            ["choices"] = choices,
            ["usage"] = new JsonObject { ["prompt_tokens"] = 0, ["completion_tokens"] = 0 },
        }.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
