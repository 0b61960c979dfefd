using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Inference.Api.Tests.Cli;

/// <summary>
/// <c>alpaca generate</c> (the built CLI, run as a process) against the service's gRPC <c>Generate</c> on a
/// loopback server, same tiny GGUF, same seed and options: the same tokens, text, log-probabilities, finish
/// reason and error messages. There is one decode loop, so any difference is a bug.
/// </summary>
public sealed partial class GenerateCommandParityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Instruction = "Give three tips for staying healthy.";

    [Fact]
    public async Task Every_sampling_and_stopping_option_gives_the_cli_the_services_tokens()
    {
        var request = new GenerateRequest
        {
            Instruction = new AlpacaInstruction { Instruction = Instruction },
            Sampling = new SamplingParameters { Temperature = 0.9, TopK = 40, TopP = 0.95, MinP = 0.02, RepetitionPenalty = 1.1, FrequencyPenalty = 0.2, PresencePenalty = 0.1, Seed = 1234 },
            Stopping = new StoppingCriteria { MaxTokens = 40, MinTokens = 8, StopTokenIds = { 300 }, IgnoreEos = true },
            Logprobs = new LogprobsOptions { Enabled = true, TopLogprobs = 3 },
        };
        var served = await GenerateAsync(request);

        var cli = await CliAsync(
            "--prompt", Instruction, "--template", "alpaca", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.02",
            "--repeat-penalty", "1.1", "--frequency-penalty", "0.2", "--presence-penalty", "0.1", "--seed", "1234",
            "--max-tokens", "40", "--min-tokens", "8", "--stop-token-id", "300", "--ignore-eos", "--top-logprobs", "3");

        Assert.Equal(served.Tokens.Select(t => t.Id), cli.TokenIds);
        Assert.Equal(served.Text, cli.Text);
        Assert.Equal(served.Tokens.Count, cli.LogProbs.Count);
        for (var i = 0; i < cli.LogProbs.Count; i++)
        {
            Assert.True(Math.Abs(served.Tokens[i].Logprob - cli.LogProbs[i]) <= 1e-4, $"token {i}: service {served.Tokens[i].Logprob}, CLI {cli.LogProbs[i]}");
        }

        Assert.Equal(Name(served.Result.FinishReason), cli.Reason);
        Assert.Equal(served.Result.Usage.PromptTokens, cli.PromptTokens);
        Assert.Equal(served.Result.Usage.CompletionTokens, cli.CompletionTokens);
        Assert.Equal(1234UL, cli.Seed);
        Assert.True(cli.CompletionTokens >= 8, "min_tokens holds");
    }

    [Fact]
    public async Task A_stop_sequence_split_over_two_tokens_ends_both_texts_before_it()
    {
        const string prompt = "Once upon a time";
        var free = await GenerateAsync(Greedy(prompt, 40));

        // A stop string made of the last character of one token and the first of the next: it only
        // matches across the token boundary, so the text that may begin it must be held back.
        var pieces = free.Tokens.Select(t => PlainText(t.Text)).ToList();
        var k = Enumerable.Range(pieces.Count / 3, pieces.Count - (pieces.Count / 3) - 1)
            .First(i => pieces[i] is not null && pieces[i + 1] is not null);
        var stop = pieces[k]![^1..] + pieces[k + 1]![..1];
        var cut = free.Text.IndexOf(stop, StringComparison.Ordinal);
        Assert.True(cut >= 0, $"'{stop}' is not in '{free.Text}'");

        var stoppedRequest = Greedy(prompt, 40);
        stoppedRequest.Stopping.Stop.Add(stop);
        var served = await GenerateAsync(stoppedRequest);
        var cli = await CliAsync("--prompt", prompt, "--template", "raw", "--temperature", "0", "--max-tokens", "40", "--ignore-eos", "--stop", stop);

        Assert.Equal(FinishReason.StopSequence, served.Result.FinishReason);
        Assert.Equal(free.Text[..cut], served.Text);
        Assert.Equal(served.Text, cli.Text);
        Assert.Equal("stop_sequence", cli.Reason);
        Assert.Equal(served.Tokens.Select(t => t.Id), cli.TokenIds);
    }

    [Fact]
    public async Task A_request_the_context_cannot_hold_is_refused_with_the_services_message()
    {
        var request = Greedy("Once upon a time", 600);
        var error = await Assert.ThrowsAsync<RpcException>(() => GenerateAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);

        var (code, _, stderr) = await RunCliAsync("--prompt", "Once upon a time", "--template", "raw", "--temperature", "0", "--max-tokens", "600");
        Assert.Equal(1, code);
        // The CLI names the model after its file; the server was given the name "tiny".
        var expected = error.Status.Detail
            .Replace("stopping.max_tokens", "--max-tokens", StringComparison.Ordinal)
            .Replace("model 'tiny'", $"model '{Path.GetFileNameWithoutExtension(TestModels.Tiny())}'", StringComparison.Ordinal);
        Assert.Contains("--max-tokens", expected, StringComparison.Ordinal);
        Assert.Equal("error: " + expected, stderr.Trim());
    }

    private static GenerateRequest Greedy(string prompt, int maxTokens) => new()
    {
        Prompt = prompt,
        Sampling = new SamplingParameters { Temperature = 0 },
        Stopping = new StoppingCriteria { MaxTokens = maxTokens, IgnoreEos = true },
    };

    // The text a token adds when it is plain: a printable ASCII byte token (<0x41> = "A") or a printable piece.
    private static string? PlainText(string piece)
    {
        if (ByteToken().Match(piece) is { Success: true } b)
        {
            var c = (char)int.Parse(b.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return c is >= '!' and <= '~' ? c.ToString() : null;
        }

        return piece.Length > 0 && !piece.StartsWith("<0x", StringComparison.Ordinal) && piece.All(c => c is >= '!' and <= '~') ? piece : null;
    }

    private static string Name(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.StopSequence => "stop_sequence",
        FinishReason.EosToken => "eos_token",
        _ => "cancelled",
    };

    private async Task<(string Text, List<GeneratedToken> Tokens, GenerationResult Result)> GenerateAsync(GenerateRequest request)
    {
        using var call = fixture.Server.Client.Generate(request);
        var text = new StringBuilder();
        var tokens = new List<GeneratedToken>();
        GenerationResult? result = null;
        await foreach (var m in call.ResponseStream.ReadAllAsync())
        {
            if (m.EventCase == GenerateResponse.EventOneofCase.Delta)
            {
                text.Append(m.Delta.Text);
                tokens.AddRange(m.Delta.Tokens);
            }
            else
            {
                result = m.Result;
            }
        }

        return (text.ToString(), tokens, result!);
    }

    private sealed record CliOutput(string Text, List<int> TokenIds, List<double> LogProbs, string Reason, int PromptTokens, int CompletionTokens, ulong Seed);

    // Runs `alpaca generate` with --logprobs: stdout is the text (plus one newline), stderr one line per
    // token ("id piece logprob  alternatives…") and the summary line.
    private static async Task<CliOutput> CliAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunCliAsync([.. args, "--logprobs"]);
        Assert.True(code == 0, $"alpaca generate exited with {code}:\n{stderr}");
        Assert.EndsWith("\n", stdout, StringComparison.Ordinal);
        var ids = new List<int>();
        var logProbs = new List<double>();
        CliOutput? output = null;
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (SummaryLine().Match(line) is { Success: true } s)
            {
                output = new CliOutput(stdout[..^1], ids, logProbs, s.Groups[1].Value, Int(s.Groups[2].Value), Int(s.Groups[3].Value), ulong.Parse(s.Groups[4].Value, CultureInfo.InvariantCulture));
            }
            else if (TokenLine().Match(line) is { Success: true } t)
            {
                ids.Add(Int(t.Groups[1].Value));
                logProbs.Add(double.Parse(t.Groups[2].Value, CultureInfo.InvariantCulture));
            }
            else
            {
                Assert.Fail($"unexpected stderr line '{line}' in:\n{stderr}");
            }
        }

        return output ?? throw new Xunit.Sdk.XunitException("no summary line in:\n" + stderr);

        static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        string[] command = ["generate", "--model", TestModels.Tiny(), "--threads", "2", .. args];
        return await AlpacaCli.RunAsync(TimeSpan.FromMinutes(2), command);
    }

    [GeneratedRegex("^<0x([0-7][0-9A-F])>$")]
    private static partial Regex ByteToken();

    [GeneratedRegex(@"^\[(\w+)\] prompt (\d+) tokens .* generated (\d+) tokens .* seed (\d+)\)$")]
    private static partial Regex SummaryLine();

    // "{id,6} {piece,-16} {logprob,10:F4}" then "  id:piece=logprob" per alternative.
    [GeneratedRegex(@"^\s*(\d+) .*? +(-?\d+\.\d{4})(?:  \d+:.*)?$")]
    private static partial Regex TokenLine();
}
