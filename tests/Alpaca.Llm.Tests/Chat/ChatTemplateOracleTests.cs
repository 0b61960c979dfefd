using System.Text.Json.Nodes;
using Alpaca.Llm.Chat.Jinja;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Chat;

/// <summary>
/// Renders every published chat template with every conversation, add_generation_prompt on and off,
/// through our engine and through @huggingface/jinja (run by node from tools/jinja-oracle) and requires
/// the same bytes — or both refusing (raise_exception or an error) the same case.
/// </summary>
public sealed class ChatTemplateOracleTests
{
    private sealed record Case(string Id, string Template, JsonObject Context);

    private static readonly Lazy<(List<Case> Cases, JsonArray Results)> Oracle = new(() =>
    {
        var cases = new List<Case>();
        foreach (var (name, template, bos, eos) in PublishedTemplates.All)
        {
            foreach (var (conversation, messages, extra) in Conversations.All())
            {
                foreach (var generation in new[] { true, false })
                {
                    var context = new JsonObject
                    {
                        ["messages"] = messages.DeepClone(),
                        ["bos_token"] = bos,
                        ["eos_token"] = eos,
                        ["add_generation_prompt"] = generation,
                    };
                    foreach (var (k, v) in extra ?? [])
                    {
                        context[k] = v?.DeepClone();
                    }

                    cases.Add(new Case($"{name}/{conversation}/agp={generation}", template, context));
                }
            }
        }

        foreach (var (id, template, context) in FeatureTemplates.All())
        {
            cases.Add(new Case($"feature/{id}", template, context));
        }

        var request = new JsonObject
        {
            ["cases"] = new JsonArray([.. cases.Select(c => (JsonNode)new JsonObject { ["template"] = c.Template, ["context"] = c.Context.DeepClone() })]),
        };
        return (cases, NodeScripts.Jinja(request)["results"]!.AsArray());
    });

    public static TheoryData<string> Families() => [.. PublishedTemplates.All.Select(t => t.Name), "feature"];

    [Theory]
    [MemberData(nameof(Families))]
    public void Renders_byte_for_byte_as_huggingface_jinja(string family)
    {
        var (cases, results) = Oracle.Value;
        var mismatches = new List<string>();
        var compared = 0;
        var refusedBoth = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            if (!c.Id.StartsWith(family + "/", StringComparison.Ordinal))
            {
                continue;
            }

            compared++;
            var expected = results[i]!.AsObject();
            string? ours = null;
            string? error = null;
            try
            {
                var variables = c.Context.ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone());
                ours = JinjaTemplate.Parse(c.Template).Render(variables);
            }
            catch (JinjaException e)
            {
                error = e.Message;
            }

            if (expected["error"] is { } oracleError)
            {
                if (error is null)
                {
                    mismatches.Add($"{c.Id}: the oracle failed ({oracleError}) but we rendered {Show(ours!)}");
                }
                else
                {
                    refusedBoth++;
                }
            }
            else if (error is not null)
            {
                mismatches.Add($"{c.Id}: we failed ({error}) but the oracle rendered {Show(expected["output"]!.GetValue<string>())}");
            }
            else if (ours != expected["output"]!.GetValue<string>())
            {
                mismatches.Add($"{c.Id}:\n  oracle {Show(expected["output"]!.GetValue<string>())}\n  ours   {Show(ours!)}");
            }
        }

        Assert.True(compared >= 10, $"only {compared} cases for {family}");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} cases differ ({refusedBoth} refused by both):\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Fact]
    public void Most_cases_render_rather_than_fail()
    {
        // Guards the comparison: if both engines failed everywhere, the byte-for-byte test would pass vacuously.
        var (cases, results) = Oracle.Value;
        var rendered = results.Count(r => r!["output"] is not null);
        Assert.True(rendered >= cases.Count * 3 / 4, $"only {rendered} of {cases.Count} oracle cases rendered");
    }

    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
