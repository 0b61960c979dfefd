using System.Globalization;

namespace Alpaca.Llm.Chat.Jinja;

/// <summary>The oracle's globals: true/false/none (and Python spellings), namespace(), range(), raise_exception(), strftime_now().</summary>
internal static class Globals
{
    public static void Install(Scope scope, RenderLimits limits, Func<DateTime> now)
    {
        scope.Set("namespace", new FunctionValue((args, _) => Namespace(args)));
        scope.Set("false", BoolValue.False);
        scope.Set("true", BoolValue.True);
        scope.Set("none", NullValue.Instance);
        scope.Set("False", BoolValue.False);
        scope.Set("True", BoolValue.True);
        scope.Set("None", NullValue.Instance);
        scope.Set("raise_exception", new FunctionValue((args, _) =>
            throw new JinjaException(args.Count > 0 ? args[0].ToString() : "", raised: true)));
        scope.Set("range", new FunctionValue((args, _) => Range(args, limits)));
        scope.Set("strftime_now", new FunctionValue((args, _) =>
            new StringValue(Strftime(now(), args.Count > 0 && args[0] is StringValue f ? f.Value : throw Interpreter.Fail("strftime_now() needs a format string")))));
    }

    private static NamespaceValue Namespace(List<Value> args)
    {
        var positional = new List<Value>(args);
        KeywordArgs? kwargs = null;
        if (positional.Count > 0 && positional[^1] is KeywordArgs k)
        {
            kwargs = k;
            positional.RemoveAt(positional.Count - 1);
        }

        if (positional.Count > 1)
        {
            throw Interpreter.Fail($"namespace expected at most 1 argument, got {positional.Count}");
        }

        var entries = new OrderedDictionary<string, Value>();
        if (positional.Count == 1)
        {
            switch (positional[0])
            {
                case ObjectValue o:
                    foreach (var (key, v) in o.Entries)
                    {
                        entries[key] = v;
                    }

                    break;
                case ArrayValue a:
                    foreach (var pair in a.Items)
                    {
                        if (pair is not ArrayValue { Items.Count: 2 } p || p.Items[0] is not StringValue key)
                        {
                            throw Interpreter.Fail("namespace expected an object or an iterable of [key, value] pairs");
                        }

                        entries[key.Value] = p.Items[1];
                    }

                    break;
                default:
                    throw Interpreter.Fail($"'{positional[0].TypeName}' object is not iterable");
            }
        }

        if (kwargs is not null)
        {
            foreach (var (key, v) in kwargs.Entries)
            {
                entries[key] = v;
            }
        }

        return new NamespaceValue(entries);
    }

    private static ArrayValue Range(List<Value> args, RenderLimits limits)
    {
        long Arg(int i) => args[i] switch
        {
            IntValue n => n.Value,
            FloatValue f when f.Value % 1 == 0 => (long)f.Value,
            var v => throw Interpreter.Fail($"range() arguments must be integers, got {v.TypeName}"),
        };

        if (args.Count is 0 or > 3)
        {
            throw Interpreter.Fail("range() takes 1 to 3 arguments");
        }

        var (start, stop) = args.Count == 1 ? (0L, Arg(0)) : (Arg(0), Arg(1));
        var step = args.Count == 3 ? Arg(2) : 1;
        if (step == 0)
        {
            throw Interpreter.Fail("range() step must not be zero");
        }

        var count = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
        if (count > limits.MaxRangeLength)
        {
            throw Interpreter.Fail($"range() of {count} items exceeds the limit of {limits.MaxRangeLength}");
        }

        var items = new List<Value>((int)Math.Max(count, 0));
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            items.Add(new IntValue(i));
        }

        return new ArrayValue(items);
    }

    /// <summary>The oracle's strftime: %Y %m %d %b %B %H %M %% (English month names); other tokens verbatim.</summary>
    public static string Strftime(DateTime date, string format)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] == '%' && i + 1 < format.Length && "YmdbBHM%".Contains(format[i + 1]))
            {
                var c = format[++i];
                sb.Append(c switch
                {
                    'Y' => date.Year.ToString(CultureInfo.InvariantCulture),
                    'm' => date.Month.ToString("00", CultureInfo.InvariantCulture),
                    'd' => date.Day.ToString("00", CultureInfo.InvariantCulture),
                    'b' => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(date.Month),
                    'B' => CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(date.Month),
                    'H' => date.Hour.ToString("00", CultureInfo.InvariantCulture),
                    'M' => date.Minute.ToString("00", CultureInfo.InvariantCulture),
                    _ => "%",
                });
            }
            else
            {
                sb.Append(format[i]);
            }
        }

        return sb.ToString();
    }
}
