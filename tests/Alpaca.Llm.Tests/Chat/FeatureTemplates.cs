using System.Text.Json.Nodes;

namespace Alpaca.Llm.Tests.Chat;

/// <summary>Small templates, one construct each, compared with the oracle like the published ones (including the cases that must fail).</summary>
internal static class FeatureTemplates
{
    private static JsonObject Ctx() => new()
    {
        ["name"] = "  Alpaca llama  ",
        ["n"] = 7,
        ["f"] = 2.5,
        ["whole"] = 3.0,
        ["flag"] = true,
        ["nothing"] = null,
        ["items"] = new JsonArray(3, 1, 2),
        ["words"] = new JsonArray("b", "A", "c"),
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "sys" },
            new JsonObject { ["role"] = "user", ["content"] = "hi", ["name"] = "bob" },
            new JsonObject { ["role"] = "assistant", ["content"] = "yo" }),
        ["obj"] = new JsonObject { ["b"] = 1, ["a"] = new JsonArray(true, null, "x"), ["é"] = "ü\n\"q\"" },
    };

    public static IEnumerable<(string Id, string Template, JsonObject Context)> All()
    {
        (string, string)[] templates =
        [
            ("text-and-comment", "a{# note #}b {#- strip -#} c"),
            ("whitespace-control", "x  {{- n -}}  y\n  {%- if flag %} t {% endif -%}  z"),
            ("lstrip-trim-blocks", "line1\n    {% if flag %}\n    yes\n    {% endif %}\nline2\n"),
            ("if-elif-else", "{% for i in items %}{% if i == 1 %}one{% elif i == 2 %}two{% else %}other{% endif %},{% endfor %}"),
            ("loop-vars", "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }};{% endfor %}"),
            ("loop-prev-next", "{% for i in items %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}"),
            ("for-else", "{% for x in [] %}x{% else %}empty{% endfor %}"),
            ("for-filter", "{% for m in messages if m.role != 'system' %}{{ m.role }}{{ loop.index }} {% endfor %}"),
            ("for-tuple-items", "{% for k, v in obj | items %}{{ k }}={{ v }};{% endfor %}{% for k, v in obj.items() %}{{ k }};{% endfor %}"),
            ("for-dict-keys", "{% for k in obj %}{{ k }},{% endfor %}"),
            ("break-continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
            ("set-scope", "{% set x = 1 %}{% for i in items %}{% set x = i %}{% endfor %}{{ x }}"),
            ("namespace", "{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.found }} {{ ns.count }} {{ ns }}"),
            ("set-block", "{% set body %}Hello {{ name | trim }}{% endset %}[{{ body }}]"),
            ("set-tuple", "{% set a, b = 1, 'two' %}{{ a }}{{ b }}"),
            ("string-filters", "{{ name | trim }}|{{ name | upper }}|{{ name | lower }}|{{ name | title }}|{{ 'hello world' | capitalize }}|{{ name | length }}"),
            ("string-methods", "{{ name.strip() }}|{{ name.lstrip() }}|{{ name.rstrip() }}|{{ 'a-b-c'.split('-') }}|{{ ' a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'hi there'.title() }}"),
            ("replace", "{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa' | replace('a', 'c', 2) }}|{{ 'ab'.replace('', '-') }}"),
            ("tojson", "{{ obj | tojson }}|{{ messages[1] | tojson(indent=2) }}|{{ obj | tojson(sort_keys=true) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ f | tojson }}{{ whole | tojson }}|{{ nothing | tojson }}{{ missing | tojson }}"),
            ("tojson-separators", "{{ obj | tojson(separators=(',', ':')) }}"),
            ("join-default", "{{ words | join(', ') }}|{{ items | join }}|{{ missing | default('dflt') }}|{{ '' | default('empty', true) }}|{{ nothing | default('x') }}"),
            ("first-last-list", "{{ items | first }}{{ items | last }}{{ words | list }}{{ 'abc' | string }}{{ n | string }}{{ items | length }}{{ obj | length }}"),
            ("int-float", "{{ '42' | int }}{{ '4x' | int }}{{ 'x' | int(5) }}{{ f | int }}{{ n | float }}{{ '1.5' | float }}{{ flag | int }}"),
            ("sort-reverse-unique", "{{ items | sort }}{{ words | sort }}{{ words | sort(reverse=true) }}{{ items | reverse }}{{ [1, 2, 1, 3] | unique }}"),
            ("selectattr-map", "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}|{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | list }}|{{ messages | selectattr('name') | length }}|{{ messages | map(attribute='name', default='anon') | join(' ') }}"),
            ("tests", "{{ n is defined }}{{ missing is undefined }}{{ nothing is none }}{{ name is string }}{{ obj is mapping }}{{ items is iterable }}{{ 'x' is iterable }}{{ n is number }}{{ n is integer }}{{ f is integer }}{{ n is odd }}{{ n is even }}{{ flag is boolean }}{{ flag is true }}{{ n is not string }}"),
            ("arithmetic", "{{ n + 1 }} {{ n - 10 }} {{ n * 2 }} {{ n / 2 }} {{ n // 2 }} {{ n % 3 }} {{ f * 2 }} {{ -n }} {{ 2 ** 10 }} {{ 7 // -2 }} {{ -7 % 3 }} {{ 1 + 2.0 }} {{ 10 / 4 }}"),
            ("concat", "{{ 'a' ~ n ~ f ~ flag }}|{{ 'a' + n|string }}|{{ 'x' + 1 }}|{{ missing ~ 'y' }}|{{ items + [4] }}"),
            ("comparison-logic", "{{ n > 3 and n < 10 }} {{ n == 7.0 }} {{ n != 7 }} {{ not flag }} {{ flag or missing }} {{ nothing or 'fallback' }} {{ [] and 'x' }} {{ 'u' in 'user' }} {{ 'b' in obj }} {{ 2 in items }} {{ 9 not in items }} {{ 1 == true }}"),
            ("ternary-select", "{{ 'yes' if flag else 'no' }}|{{ 'shown' if n > 5 }}|{{ 'hidden' if n > 50 }}|"),
            ("slicing", "{{ items[::-1] }}{{ items[1:] }}{{ items[:-1] }}{{ 'hello'[1:3] }}{{ 'hello'[::-1] }}{{ messages[-1].role }}{{ items[0:3:2] }}{{ 'héllo🐱'[::-1] }}"),
            ("member-access", "{{ messages[0]['role'] }}{{ messages[1].name }}{{ messages[5].role }}{{ obj.get('b') }}{{ obj.get('zz', 'd') }}{{ obj.get('zz') }}{{ missing.deep.er }}{{ name.length }}"),
            ("literals", "{{ [1, 'a', [true, none]] }}{{ {'k': 1, 'j': [2]} }}{{ (1, 2)[1] }}{{ 1.0 }}{{ 0.1 + 0.2 }}{{ none }}{{ True }}{{ 'a' 'b' }}{{ \"q\\n\\t\\u00e9\" }}"),
            ("macro", "{% macro greet(who, punct='!') %}Hi {{ who }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(who='C', punct='.') }}"),
            ("macro-caller", "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside {{ n }}{% endcall %}"),
            ("filter-block", "{% filter upper %}shout {{ name | trim }}{% endfilter %}"),
            ("generation-tags", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}"),
            ("range", "{{ range(3) }}{{ range(1, 4) }}{{ range(10, 0, -3) }}"),
            ("raise", "{% if n > 3 %}{{ raise_exception('n is too big: ' ~ n) }}{% endif %}"),
            ("unknown-filter", "{{ name | frobnicate }}"),
            ("undefined-arithmetic", "{{ missing + 1 }}"),
            ("call-undefined", "{{ nope() }}"),
            ("string-compare-lt", "{{ 'a' < 'b' }}"),
            ("render-mapping-and-none", "{{ obj }}|{{ nothing }}|{{ missing }}|{{ flag }}|{{ whole }}|{{ f }}"),
            ("print-tuple", "{{ (1, 2) }}"),
            ("indent", "{{ 'a\nb\n\nc' | indent }}|{{ 'a\nb' | indent(2, true) }}"),
        ];

        foreach (var (id, template) in templates)
        {
            yield return (id, template, Ctx());
        }
    }
}
