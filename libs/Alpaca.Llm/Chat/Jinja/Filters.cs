using System.Globalization;

namespace Alpaca.Llm.Chat.Jinja;

/// <summary>Filters, dispatched on the operand's type exactly as the oracle's applyFilter does.</summary>
internal sealed partial class Interpreter
{
    private Value ApplyFilter(Value operand, Node filterNode, Scope scope)
    {
        if (filterNode is IdentifierNode id)
        {
            return ApplyPlainFilter(operand, id.Name);
        }

        if (filterNode is not CallNode { Callee: IdentifierNode callee } call)
        {
            throw Fail("Unknown filter");
        }

        var name = callee.Name;
        switch (name)
        {
            case "tojson":
                return new StringValue(Json.Write(operand, ToJsonOptions(Arguments(call.Args, scope).Keywords), 0));
            case "join":
                {
                    var parts = operand switch
                    {
                        StringValue s => CodePointStrings(s.Value),
                        ArrayValue a => a.Items.Select(JsValueString).ToList(),
                        _ => throw Fail($"Cannot apply filter \"{name}\" to type: {operand.TypeName}"),
                    };
                    var (args, kwargs) = Arguments(call.Args, scope);
                    var separator = args.ElementAtOrDefault(0) ?? kwargs.GetValueOrDefault("separator") ?? new StringValue("");
                    return separator is StringValue sep ? new StringValue(string.Join(sep.Value, parts)) : throw Fail("separator must be a string");
                }

            case "int" or "float":
                {
                    var (args, kwargs) = Arguments(call.Args, scope);
                    var fallback = args.ElementAtOrDefault(0) ?? kwargs.GetValueOrDefault("default") ?? (name == "int" ? new IntValue(0) : new FloatValue(0));
                    return operand switch
                    {
                        StringValue s => name == "int" ? (ParseIntPrefix(s.Value) is { } n ? new IntValue(n) : fallback) : (ParseFloatPrefix(s.Value) is { } d ? new FloatValue(d) : fallback),
                        IntValue or FloatValue => name == "int" ? new IntValue((long)Math.Truncate(Values.Number(operand))) : new FloatValue(Values.Number(operand)),
                        BoolValue b => name == "int" ? new IntValue(b.Value ? 1 : 0) : new FloatValue(b.Value ? 1 : 0),
                        _ => throw Fail($"Cannot apply filter \"{name}\" to type: {operand.TypeName}"),
                    };
                }

            case "default":
                {
                    var (args, kwargs) = Arguments(call.Args, scope);
                    var fallback = args.ElementAtOrDefault(0) ?? new StringValue("");
                    var boolean = args.ElementAtOrDefault(1) ?? kwargs.GetValueOrDefault("boolean") ?? BoolValue.False;
                    if (boolean is not BoolValue flag)
                    {
                        throw Fail("`default` filter flag must be a boolean");
                    }

                    return operand is UndefinedValue || (flag.Value && !operand.Truthy) ? fallback : operand;
                }
        }

        switch (operand)
        {
            case ArrayValue array:
                return name switch
                {
                    "selectattr" or "rejectattr" => SelectAttr(array, name, call, scope),
                    "map" => MapAttribute(array, Arguments(call.Args, scope).Keywords),
                    "sort" => Sort(array, Arguments(call.Args, scope)),
                    _ => throw Fail($"Unknown filter '{name}' for an array"),
                };
            case StringValue s when name == "indent":
                {
                    var (args, kwargs) = Arguments(call.Args, scope);
                    var width = args.ElementAtOrDefault(0) ?? kwargs.GetValueOrDefault("width") ?? new IntValue(4);
                    var first = args.ElementAtOrDefault(1) ?? kwargs.GetValueOrDefault("first") ?? BoolValue.False;
                    var blank = args.ElementAtOrDefault(2) ?? kwargs.GetValueOrDefault("blank") ?? BoolValue.False;
                    var indent = width switch
                    {
                        StringValue w => w.Value,
                        IntValue w => new string(' ', (int)Math.Clamp(w.Value, 0, 1000)),
                        _ => throw Fail("width must be an integer or a string"),
                    };
                    return new StringValue(Indent(s.Value, indent, first.Truthy, blank.Truthy));
                }

            case StringValue s when name == "replace":
                {
                    var (args, kwargs) = Arguments(call.Args, scope);
                    return Builtins.Replace(s.Value, [.. args, new KeywordArgs(kwargs)]);
                }

            case StringValue:
                throw Fail($"Unknown filter '{name}' for a string");
            case ObjectValue o when Builtins.OfObject(o, name) is FunctionValue f:
                return f.Function(CallArguments(call.Args, scope), scope);
            case ObjectValue:
                throw Fail($"Unknown filter '{name}' for a mapping");
            default:
                throw Fail($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
        }
    }

    private static Value ApplyPlainFilter(Value operand, string name)
    {
        if (name == "safe")
        {
            return operand;
        }

        if (name == "tojson")
        {
            return new StringValue(Json.Write(operand, new JsonOptions(), 0));
        }

        switch (operand)
        {
            case ArrayValue a:
                return name switch
                {
                    "list" => operand,
                    "first" => a.Items.Count > 0 ? a.Items[0] : UndefinedValue.Instance,
                    "last" => a.Items.Count > 0 ? a.Items[^1] : UndefinedValue.Instance,
                    "length" => new IntValue(a.Items.Count),
                    "reverse" => new ArrayValue([.. Enumerable.Reverse(a.Items)]),
                    "sort" => Sort(a, ([], [])),
                    "join" => new StringValue(string.Concat(a.Items.Select(JsValueString))),
                    "string" => new StringValue(Json.Write(operand, new JsonOptions(), 0, convertUndefinedToNull: false)),
                    "unique" => Unique(a),
                    _ => throw Fail($"Unknown filter '{name}' for an array"),
                };
            case StringValue s:
                return name switch
                {
                    "length" => new IntValue(s.Value.Length),
                    "upper" => new StringValue(s.Value.ToUpperInvariant()),
                    "lower" => new StringValue(s.Value.ToLowerInvariant()),
                    "title" => new StringValue(Builtins.TitleCase(s.Value)),
                    "capitalize" => new StringValue(Builtins.Capitalize(s.Value)),
                    "trim" => new StringValue(Builtins.JsTrim(s.Value)),
                    "indent" => new StringValue(Indent(s.Value, "    ", first: false, blank: false)),
                    "join" or "string" => operand,
                    "int" => new IntValue(ParseIntPrefix(s.Value) ?? 0),
                    "float" => new FloatValue(ParseFloatPrefix(s.Value) ?? 0),
                    _ => throw Fail($"Unknown filter '{name}' for a string"),
                };
            case IntValue or FloatValue:
                return name switch
                {
                    "abs" => operand is IntValue i ? new IntValue(Math.Abs(i.Value)) : new FloatValue(Math.Abs(Values.Number(operand))),
                    "int" => new IntValue((long)Math.Truncate(Values.Number(operand))),
                    "float" => new FloatValue(Values.Number(operand)),
                    "string" => new StringValue(operand.ToString()),
                    _ => throw Fail($"Unknown filter '{name}' for a number"),
                };
            case ObjectValue o:
                return name switch
                {
                    "items" => Builtins.Items(o),
                    "length" => new IntValue(o.Entries.Count),
                    _ => Builtins.OfObject(o, name) is FunctionValue f ? f.Function([], new Scope(null)) : throw Fail($"Unknown filter '{name}' for a mapping"),
                };
            case BoolValue b:
                return name switch
                {
                    "bool" => b,
                    "int" => new IntValue(b.Value ? 1 : 0),
                    "float" => new FloatValue(b.Value ? 1 : 0),
                    "string" => new StringValue(b.ToString()),
                    _ => throw Fail($"Unknown filter '{name}' for a boolean"),
                };
            default:
                throw Fail($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
        }
    }

    // `x.value` joined by JavaScript: a string as is, a number as JavaScript prints it, null/undefined as "".
    private static string JsValueString(Value v) => v switch
    {
        StringValue s => s.Value,
        IntValue i => i.ToString(),
        FloatValue f => FloatValue.JsNumber(f.Value),
        BoolValue b => b.ToString(),
        NullValue or UndefinedValue => "",
        ArrayValue a => string.Join(",", a.Items.Select(x => x.ToString())),
        _ => "[object Map]",
    };

    private static List<string> CodePointStrings(string s)
    {
        var list = new List<string>();
        for (var i = 0; i < s.Length; i++)
        {
            list.Add(char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? s.Substring(i++, 2) : s[i].ToString());
        }

        return list;
    }

    private static string Indent(string s, string indent, bool first, bool blank) =>
        string.Join("\n", s.Split('\n').Select((x, i) => (!first && i == 0) || (!blank && x.Length == 0) ? x : indent + x));

    private static JsonOptions ToJsonOptions(OrderedDictionary<string, Value> kwargs)
    {
        var indent = kwargs.GetValueOrDefault("indent") ?? NullValue.Instance;
        if (indent is not (IntValue or NullValue))
        {
            throw Fail("If set, indent must be a number");
        }

        var ensureAscii = kwargs.GetValueOrDefault("ensure_ascii") ?? BoolValue.False;
        var sortKeys = kwargs.GetValueOrDefault("sort_keys") ?? BoolValue.False;
        if (ensureAscii is not BoolValue ea || sortKeys is not BoolValue sk)
        {
            throw Fail("If set, ensure_ascii and sort_keys must be booleans");
        }

        (string, string)? separators = null;
        switch (kwargs.GetValueOrDefault("separators") ?? NullValue.Instance)
        {
            case ArrayValue { Items: [StringValue item, StringValue key] }:
                separators = (item.Value, key.Value);
                break;
            case NullValue:
                break;
            default:
                throw Fail("separators must be a tuple of two strings");
        }

        return new JsonOptions(indent is IntValue i ? (int)Math.Clamp(i.Value, 0, 100) : null, ea.Value, sk.Value, separators);
    }

    private Value SelectAttr(ArrayValue array, string name, CallNode call, Scope scope)
    {
        var select = name == "selectattr";
        if (array.Items.Any(x => x is not (ObjectValue or NamespaceValue)))
        {
            throw Fail($"`{name}` can only be applied to array of objects");
        }

        if (call.Args.Any(x => x is not StringLiteral))
        {
            throw Fail($"arguments of `{name}` must be strings");
        }

        var args = call.Args.Select(x => Evaluate(x, scope)).ToList();
        var attr = args.ElementAtOrDefault(0) is StringValue a ? a.Value : throw Fail($"`{name}` needs an attribute name");
        Tests.Test test = (x, _) => x.Truthy;
        if (args.ElementAtOrDefault(1) is StringValue testName)
        {
            test = Tests.Get(testName.Value) ?? throw Fail($"Unknown test: {testName.Value}");
        }

        var value = args.ElementAtOrDefault(2);
        var filtered = array.Items.Where(item =>
        {
            var entries = item is ObjectValue o ? o.Entries : ((NamespaceValue)item).Entries;
            var result = entries.TryGetValue(attr, out var v) && test(v, value ?? UndefinedValue.Instance);
            return select ? result : !result;
        });
        return new ArrayValue([.. filtered]);
    }

    private static Value AttributePath(Value item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            if (value is ObjectValue o)
            {
                value = o.Entries.GetValueOrDefault(part) ?? UndefinedValue.Instance;
            }
            else if (value is NamespaceValue n)
            {
                value = n.Entries.GetValueOrDefault(part) ?? UndefinedValue.Instance;
            }
            else if (value is ArrayValue a && int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) && index >= 0 && index < a.Items.Count)
            {
                value = a.Items[index];
            }
            else
            {
                return UndefinedValue.Instance;
            }
        }

        return value;
    }

    private static ArrayValue MapAttribute(ArrayValue array, OrderedDictionary<string, Value> kwargs)
    {
        if (!kwargs.TryGetValue("attribute", out var attr))
        {
            throw Fail("`map` expressions without `attribute` set are not currently supported.");
        }

        if (attr is not StringValue path)
        {
            throw Fail("attribute must be a string");
        }

        var fallback = kwargs.GetValueOrDefault("default");
        return new ArrayValue([.. array.Items.Select(item =>
        {
            if (item is not (ObjectValue or NamespaceValue))
            {
                throw Fail("items in map must be an object");
            }

            var v = AttributePath(item, path.Value);
            return v is UndefinedValue ? fallback ?? UndefinedValue.Instance : v;
        })]);
    }

    private static ArrayValue Sort(ArrayValue array, (List<Value> Args, OrderedDictionary<string, Value> Kwargs) a)
    {
        var reverse = (a.Args.ElementAtOrDefault(0) ?? a.Kwargs.GetValueOrDefault("reverse") ?? BoolValue.False).Truthy;
        var caseSensitive = (a.Args.ElementAtOrDefault(1) ?? a.Kwargs.GetValueOrDefault("case_sensitive") ?? BoolValue.False).Truthy;
        var attribute = a.Args.ElementAtOrDefault(2) ?? a.Kwargs.GetValueOrDefault("attribute") ?? NullValue.Instance;
        Value Key(Value item) => attribute switch
        {
            NullValue => item,
            IntValue i => AttributePath(item, i.Value.ToString(CultureInfo.InvariantCulture)),
            StringValue s => AttributePath(item, s.Value),
            _ => throw Fail("attribute must be a string, integer, or null"),
        };

        var sorted = array.Items.Select(x => (Item: x, Key: Key(x))).ToList();
        // A stable sort, as JavaScript's Array.prototype.sort is.
        var ordered = sorted.Select((x, i) => (x.Item, x.Key, i)).ToList();
        ordered.Sort((x, y) =>
        {
            var c = Compare(x.Key, y.Key, caseSensitive);
            return c != 0 ? (reverse ? -c : c) : x.i.CompareTo(y.i);
        });
        return new ArrayValue([.. ordered.Select(x => x.Item)]);
    }

    private static int Compare(Value a, Value b, bool caseSensitive)
    {
        if (a is NullValue && b is NullValue || a is UndefinedValue && b is UndefinedValue)
        {
            return 0;
        }

        if (a is NullValue or UndefinedValue || b is NullValue or UndefinedValue)
        {
            throw Fail($"Cannot compare {a.TypeName} with {b.TypeName}");
        }

        if (a is IntValue or FloatValue or BoolValue && b is IntValue or FloatValue or BoolValue)
        {
            return Values.Number(a).CompareTo(Values.Number(b));
        }

        if (a is StringValue sa && b is StringValue sb)
        {
            var x = caseSensitive ? sa.Value : sa.Value.ToLowerInvariant();
            var y = caseSensitive ? sb.Value : sb.Value.ToLowerInvariant();
            return Math.Sign(string.CompareOrdinal(x, y));
        }

        throw Fail($"Cannot compare different types: {a.TypeName} and {b.TypeName}");
    }

    private static ArrayValue Unique(ArrayValue a)
    {
        var output = new List<Value>();
        foreach (var item in a.Items)
        {
            if (!output.Any(x => Values.StrictEquals(x, item)))
            {
                output.Add(item);
            }
        }

        return new ArrayValue(output);
    }

    // JavaScript's parseInt(s, 10) / parseFloat(s): a leading numeric prefix after whitespace, else NaN (null).
    private static long? ParseIntPrefix(string s)
    {
        var t = Builtins.JsTrimStart(s);
        var i = 0;
        if (i < t.Length && t[i] is '+' or '-')
        {
            i++;
        }

        var digits = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]))
        {
            i++;
        }

        return i > digits && long.TryParse(t[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static double? ParseFloatPrefix(string s)
    {
        var t = Builtins.JsTrimStart(s);
        for (var len = t.Length; len > 0; len--)
        {
            if (double.TryParse(t[..len], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var d))
            {
                return d;
            }
        }

        return null;
    }
}
