using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>
/// Pairwise preference in the manner of AlpacaEval: a judge model (any OpenAI-compatible chat endpoint) is
/// shown the instruction and two outputs and asked which is better. Each item is asked twice, the model's answer
/// first as (a) and then as (b), so a judge that favours a position scores a tie rather than a win: both orders
/// for the model is a win (1), both against a loss (0), a split (or an unreadable reply) a tie (0.5).
/// </summary>
internal sealed partial class PairwiseJudge(OpenAiHttp http, string model)
{
    /// <summary>The prompt, stored with every judged row (and so with the results) as it was sent.</summary>
    public const string Template = """
        Select the output (a) or (b) that best answers the instruction below. Judge helpfulness, correctness and
        how well the output follows the instruction; the length of an output is not a merit in itself.
        Your reply should contain ONLY: "Output (a)" or "Output (b)".

        # Instruction:
        {instruction}

        # Output (a):
        {output_a}

        # Output (b):
        {output_b}

        # Which is better, Output (a) or Output (b)?
        """;

    public string Model => model;

    public async Task<JudgeResult> JudgeAsync(EvalItem item, string answer, string reference, CancellationToken cancellationToken)
    {
        var first = Prompt(item, answer, reference);
        var second = Prompt(item, reference, answer);
        var replyFirst = await http.ChatAsync(model, first, 16, cancellationToken);
        var replySecond = await http.ChatAsync(model, second, 16, cancellationToken);
        // The model's share of the preference in each order: it is (a) first, (b) second.
        var score = (Share(Choice(replyFirst), 'a') + Share(Choice(replySecond), 'b')) / 2;
        return new JudgeResult(score, [first, second], [replyFirst, replySecond]);
    }

    public static string Prompt(EvalItem item, string a, string b)
    {
        var instruction = item.Input.Length > 0 ? item.Instruction + "\n\n" + item.Input : item.Instruction;
        // Placeholders are filled in one pass, so text that contains "{output_b}" is never filled again.
        return PlaceholderRegex().Replace(Template, m => m.Groups[1].Value switch
        {
            "instruction" => instruction,
            "output_a" => a,
            _ => b,
        });
    }

    /// <summary>'a', 'b', or '?' when the reply names neither (or both first at once).</summary>
    public static char Choice(string reply)
    {
        var match = ChoiceRegex().Match(reply);
        if (match.Success)
        {
            return char.ToLowerInvariant(match.Groups[1].Value[0]);
        }

        var bare = reply.Trim().TrimStart('(').ToLowerInvariant();
        return bare.Length > 0 && bare[0] is 'a' or 'b' && (bare.Length == 1 || !char.IsLetter(bare[1])) ? bare[0] : '?';
    }

    private static double Share(char choice, char modelSide) => choice == '?' ? 0.5 : choice == modelSide ? 1 : 0;

    [GeneratedRegex(@"\{(instruction|output_a|output_b)\}")]
    private static partial Regex PlaceholderRegex();

    [GeneratedRegex(@"[Oo]utput\s*\(?([abAB])\)?")]
    private static partial Regex ChoiceRegex();
}

/// <summary>One item's judgement: the model's score (1 win, 0.5 tie, 0 loss), the two prompts and the judge's replies.</summary>
internal sealed record JudgeResult(double Score, string[] Prompts, string[] Replies)
{
    public string Verdict => Score switch { 1 => "win", 0 => "loss", _ => "tie" };

    public JsonObject ToJson(string judgeModel) => new()
    {
        ["model"] = judgeModel,
        ["verdict"] = Verdict,
        ["score"] = Score,
        ["prompts"] = new JsonArray(Prompts.Select(p => (JsonNode)p).ToArray()),
        ["replies"] = new JsonArray(Replies.Select(p => (JsonNode)p).ToArray()),
    };
}

/// <summary>A win rate (ties count half, as AlpacaEval counts them) and its 95% Wilson score interval.</summary>
internal readonly record struct WinRate(int Wins, int Ties, int Losses, double Rate, double Low, double High)
{
    public const double Z95 = 1.959963984540054;

    public static WinRate From(IEnumerable<double> scores)
    {
        var list = scores.ToList();
        var wins = list.Count(s => s == 1);
        var losses = list.Count(s => s == 0);
        var ties = list.Count - wins - losses;
        if (list.Count == 0)
        {
            return default;
        }

        var n = (double)list.Count;
        var p = (wins + (0.5 * ties)) / n;
        var (low, high) = Wilson(p, n);
        return new WinRate(wins, ties, losses, p, low, high);
    }

    /// <summary>(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).</summary>
    public static (double Low, double High) Wilson(double p, double n)
    {
        var z2 = Z95 * Z95;
        var centre = p + (z2 / (2 * n));
        var half = Z95 * Math.Sqrt((p * (1 - p) / n) + (z2 / (4 * n * n)));
        var denominator = 1 + (z2 / n);
        return ((centre - half) / denominator, (centre + half) / denominator);
    }
}
