using System.Globalization;
using System.Text.Json.Nodes;

namespace Alpaca.Llm.Chat.Jinja;

/// <summary>
/// The runtime values of @huggingface/jinja: the same kinds, truthiness and string forms, so a template
/// renders byte-for-byte as transformers.js renders it.
/// </summary>
internal abstract class Value
{
    public abstract string TypeName { get; }

    public virtual bool Truthy => true;

    public override string ToString() => "";
}

internal sealed class IntValue(long value) : Value
{
    public long Value { get; } = value;

    public override string TypeName => "IntegerValue";

    public override bool Truthy => Value != 0;

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

internal sealed class FloatValue(double value) : Value
{
    public double Value { get; } = value;

    public override string TypeName => "FloatValue";

    public override bool Truthy => Value != 0 && !double.IsNaN(Value);

    // JS: 3.0 renders as "3.0" (the oracle's Python-like rule), other floats as JavaScript prints them.
    public override string ToString() =>
        Value == 0 && double.IsNegative(Value) ? "-0.0" : Value % 1 == 0 && double.IsFinite(Value) ? Value.ToString("0.0", CultureInfo.InvariantCulture) : JsNumber(Value);

    public static string JsNumber(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        if (d % 1 == 0 && Math.Abs(d) < 1e21)
        {
            return ((decimal)d).ToString(CultureInfo.InvariantCulture);
        }

        return d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
    }
}

internal sealed class StringValue(string value) : Value
{
    public string Value { get; } = value;

    public override string TypeName => "StringValue";

    public override bool Truthy => Value.Length > 0;

    public override string ToString() => Value;
}

internal sealed class BoolValue : Value
{
    public static readonly BoolValue True = new(true);
    public static readonly BoolValue False = new(false);

    private BoolValue(bool value) => Value = value;

    public bool Value { get; }

    public static BoolValue Of(bool b) => b ? True : False;

    public override string TypeName => "BooleanValue";

    public override bool Truthy => Value;

    public override string ToString() => Value ? "true" : "false";
}

internal class ObjectValue(OrderedDictionary<string, Value> entries) : Value
{
    public ObjectValue()
        : this([])
    {
    }

    public OrderedDictionary<string, Value> Entries { get; } = entries;

    public override string TypeName => "ObjectValue";

    public override bool Truthy => Entries.Count > 0;

    public override string ToString() => Json.Write(this, new JsonOptions(), 0, convertUndefinedToNull: false);
}

/// <summary>Keyword arguments, passed to a function as its last argument (the oracle's calling convention).</summary>
internal sealed class KeywordArgs(OrderedDictionary<string, Value> entries) : ObjectValue(entries)
{
    public override string TypeName => "KeywordArgumentsValue";
}

internal sealed class NamespaceValue(OrderedDictionary<string, Value> entries) : Value
{
    public OrderedDictionary<string, Value> Entries { get; } = entries;

    public override string TypeName => "NamespaceValue";

    public override bool Truthy => true;

    public override string ToString() => Json.Write(this, new JsonOptions(), 0, convertUndefinedToNull: false);
}

internal class ArrayValue(List<Value> items) : Value
{
    public List<Value> Items { get; } = items;

    public override string TypeName => "ArrayValue";

    public override bool Truthy => Items.Count > 0;

    public override string ToString() => Json.Write(this, new JsonOptions(), 0, convertUndefinedToNull: false);
}

internal sealed class TupleValue(List<Value> items) : ArrayValue(items)
{
    public override string TypeName => "TupleValue";
}

internal delegate Value JinjaFunction(List<Value> args, Scope scope);

internal sealed class FunctionValue(JinjaFunction function) : Value
{
    public JinjaFunction Function { get; } = function;

    public override string TypeName => "FunctionValue";

    public override string ToString() => "[object Object]";
}

internal sealed class NullValue : Value
{
    public static readonly NullValue Instance = new();

    public override string TypeName => "NullValue";

    public override bool Truthy => false;

    public override string ToString() => "undefined";
}

internal sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Instance = new();

    public override string TypeName => "UndefinedValue";

    public override bool Truthy => false;

    public override string ToString() => "undefined";
}

internal static class Values
{
    /// <summary>A JSON context value (messages, tools, flags) as the oracle converts a JavaScript value.</summary>
    public static Value FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return NullValue.Instance;
            case JsonObject o:
                {
                    var d = new OrderedDictionary<string, Value>();
                    foreach (var (k, v) in o)
                    {
                        d[k] = FromJson(v);
                    }

                    return new ObjectValue(d);
                }

            case JsonArray a:
                return new ArrayValue([.. a.Select(FromJson)]);
            case JsonValue v:
                if (v.TryGetValue<string>(out var s))
                {
                    return new StringValue(s);
                }

                if (v.TryGetValue<bool>(out var b))
                {
                    return BoolValue.Of(b);
                }

                // A number however the node holds it (parsed JSON, or a CLR int/double): its JSON text decides,
                // as JavaScript's Number.isInteger does (3.0 is an integer there).
                var text = v.ToJsonString();
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    return new IntValue(l);
                }

                var d2 = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                return d2 % 1 == 0 && Math.Abs(d2) < 9e15 ? new IntValue((long)d2) : new FloatValue(d2);
            default:
                throw new ArgumentException($"Unsupported JSON node {node.GetType().Name}");
        }
    }

    public static Value FromClr(object? value) => value switch
    {
        null => NullValue.Instance,
        Value v => v,
        string s => new StringValue(s),
        bool b => BoolValue.Of(b),
        int i => new IntValue(i),
        long l => new IntValue(l),
        double d => d % 1 == 0 && Math.Abs(d) < 9e15 ? new IntValue((long)d) : new FloatValue(d),
        JsonNode n => FromJson(n),
        _ => throw new ArgumentException($"A chat template variable cannot be a {value.GetType().Name}."),
    };

    public static bool IsNumeric(Value v) => v is IntValue or FloatValue;

    public static double Number(Value v) => v switch
    {
        IntValue i => i.Value,
        FloatValue f => f.Value,
        BoolValue b => b.Value ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>JavaScript's <c>a.value == b.value</c>, which is what the oracle's <c>==</c> compares.</summary>
    public static bool LooseEquals(Value a, Value b)
    {
        var nullishA = a is NullValue or UndefinedValue;
        var nullishB = b is NullValue or UndefinedValue;
        if (nullishA || nullishB)
        {
            return nullishA && nullishB;
        }

        if (a is StringValue sa && b is StringValue sb)
        {
            return sa.Value == sb.Value;
        }

        if (a is IntValue or FloatValue or BoolValue && b is IntValue or FloatValue or BoolValue)
        {
            return Number(a) == Number(b);
        }

        if (a is StringValue s1 && b is IntValue or FloatValue or BoolValue)
        {
            return JsToNumber(s1.Value) == Number(b);
        }

        if (b is StringValue s2 && a is IntValue or FloatValue or BoolValue)
        {
            return JsToNumber(s2.Value) == Number(a);
        }

        return ReferenceEquals(Underlying(a), Underlying(b));
    }

    /// <summary>JavaScript's <c>a.value === b.value</c> (used by <c>in</c> on arrays and the equalto test).</summary>
    public static bool StrictEquals(Value a, Value b)
    {
        if (a is NullValue or UndefinedValue || b is NullValue or UndefinedValue)
        {
            return a is NullValue or UndefinedValue && b is NullValue or UndefinedValue;
        }

        return (a, b) switch
        {
            (StringValue x, StringValue y) => x.Value == y.Value,
            (IntValue or FloatValue, IntValue or FloatValue) => Number(a) == Number(b),
            (BoolValue x, BoolValue y) => x.Value == y.Value,
            _ => ReferenceEquals(Underlying(a), Underlying(b)),
        };
    }

    private static object Underlying(Value v) => v switch
    {
        ObjectValue o => o.Entries,
        NamespaceValue n => n.Entries,
        ArrayValue a => a.Items,
        FunctionValue f => f.Function,
        _ => v,
    };

    private static double JsToNumber(string s)
    {
        var t = s.Trim();
        return t.Length == 0 ? 0 : double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
    }
}
