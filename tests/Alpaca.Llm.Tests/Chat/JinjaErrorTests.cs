using Alpaca.Llm.Chat.Jinja;

namespace Alpaca.Llm.Tests.Chat;

/// <summary>Errors name what is wrong and where; hostile templates are bounded, never a hang.</summary>
public sealed class JinjaErrorTests
{
    private static readonly Dictionary<string, object?> Empty = [];

    [Fact]
    public void Unknown_filter_names_the_filter_line_and_column()
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("ok\n  {{ 'x' | frobnicate }}").Render(Empty));
        Assert.Contains("frobnicate", e.Message);
        Assert.Equal(2, e.Line);
        Assert.Equal(12, e.Column);
    }

    [Theory]
    [InlineData("{% if x %}never closed", "never closed", 1, 23)]
    [InlineData("a\n{{ 1 + }}", "Unexpected", 2, 8)]
    [InlineData("{% frob %}", "Unknown statement 'frob'", 1, 4)]
    [InlineData("{{ 'unterminated }}", "unterminated string", 1, 4)]
    [InlineData("x\n\n   {{ a ! b }}", "Unexpected character: !", 3, 9)]
    public void Syntax_errors_give_a_clear_message_with_line_and_column(string template, string message, int line, int column)
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template));
        Assert.Contains(message, e.Message);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"line {line}, column {column}", e.Message);
    }

    [Fact]
    public void Raise_exception_is_marked_as_raised_by_the_template()
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{{ raise_exception('roles must alternate') }}").Render(Empty));
        Assert.True(e.Raised);
        Assert.Equal("roles must alternate", e.Reason);
    }

    [Theory]
    [InlineData("{% for i in range(100000000) %}x{% endfor %}", "range()")]
    [InlineData("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}", "evaluation steps")]
    [InlineData("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "nest deeper")]
    [InlineData("{% set s = namespace(v='xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}", "exceeds")]
    public void Hostile_templates_are_bounded(string template, string message)
    {
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template).Render(Empty, new RenderLimits { MaxOutputChars = 1 << 20 }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Deep_nesting_is_a_parse_error_not_a_stack_overflow()
    {
        var template = string.Concat(Enumerable.Repeat("{% if true %}", 5000)) + string.Concat(Enumerable.Repeat("{% endif %}", 5000));
        var e = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template));
        Assert.Contains("nests deeper", e.Message);
        var expression = new string('(', 5000) + "1" + new string(')', 5000);
        Assert.Contains("nests deeper", Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{{ " + expression + " }}")).Message);
    }

    [Fact]
    public void Strftime_now_uses_the_given_clock()
    {
        var output = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y %H:%M') }}").Render(Empty, now: () => new DateTime(2024, 7, 26, 9, 5, 0));
        Assert.Equal("26 Jul 2024 09:05", output);
    }
}
