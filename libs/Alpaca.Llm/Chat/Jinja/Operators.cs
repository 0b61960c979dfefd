namespace Alpaca.Llm.Chat.Jinja;

/// <summary>Binary operators with the oracle's type rules (numbers, <c>~</c> and <c>+</c> on strings, <c>in</c>, undefined).</summary>
internal static class Operators
{
    // A string built by ~ or + may not outgrow this (repeated doubling would otherwise exhaust memory).
    private const int MaxStringChars = 16 << 20;

    private static StringValue Concat(string a, string b) =>
        a.Length + (long)b.Length > MaxStringChars ? throw Interpreter.Fail($"A string built by the template exceeds {MaxStringChars} characters") : new StringValue(a + b);

    public static Value Binary(string op, Value left, Value right)
    {
        switch (op)
        {
            case "==":
                return BoolValue.Of(Values.LooseEquals(left, right));
            case "!=":
                return BoolValue.Of(!Values.LooseEquals(left, right));
        }

        if (Values.IsNumeric(left) && Values.IsNumeric(right) && op is not ("~" or "**"))
        {
            var isFloat = left is FloatValue || right is FloatValue;
            if (!isFloat && left is IntValue li && right is IntValue ri)
            {
                switch (op)
                {
                    case "+": return new IntValue(li.Value + ri.Value);
                    case "-": return new IntValue(li.Value - ri.Value);
                    case "*": return new IntValue(li.Value * ri.Value);
                    case "//" when ri.Value != 0: return new IntValue((long)Math.Floor((double)li.Value / ri.Value));
                    case "%" when ri.Value != 0: return new IntValue(li.Value % ri.Value);
                }
            }

            var a = Values.Number(left);
            var b = Values.Number(right);
            switch (op)
            {
                case "+": return new FloatValue(a + b);
                case "-": return new FloatValue(a - b);
                case "*": return new FloatValue(a * b);
                case "/": return new FloatValue(a / b);
                case "//": return isFloat ? new FloatValue(Math.Floor(a / b)) : throw Interpreter.Fail("integer division by zero");
                case "%": return isFloat ? new FloatValue(a % b) : throw Interpreter.Fail("integer modulo by zero");
                case "<": return BoolValue.Of(a < b);
                case ">": return BoolValue.Of(a > b);
                case ">=": return BoolValue.Of(a >= b);
                case "<=": return BoolValue.Of(a <= b);
            }
        }
        else if (left is UndefinedValue || right is UndefinedValue)
        {
            if (right is UndefinedValue && op is "in" or "not in")
            {
                return BoolValue.Of(op == "not in");
            }

            if (op == "~" && left is not NullValue && right is not NullValue)
            {
                return Concat(left is UndefinedValue ? "" : Str(left), right is UndefinedValue ? "" : Str(right));
            }

            throw Interpreter.Fail($"Cannot perform operation {op} on undefined values");
        }
        else if (left is NullValue || right is NullValue)
        {
            throw Interpreter.Fail("Cannot perform operation on null values");
        }
        else if (op == "~")
        {
            return Concat(Str(left), Str(right));
        }
        else if (op == "**" && left is IntValue or FloatValue or BoolValue && right is IntValue or FloatValue or BoolValue)
        {
            var a = Values.Number(left);
            var b = Values.Number(right);
            if (a == 0 && b < 0)
            {
                throw Interpreter.Fail("0.0 cannot be raised to a negative power");
            }

            var result = Math.Pow(a, b);
            if (!double.IsFinite(result))
            {
                throw Interpreter.Fail("Exponentiation result is not a finite real number");
            }

            return left is FloatValue || right is FloatValue || b < 0 ? new FloatValue(result) : new IntValue((long)result);
        }
        else if (left is ArrayValue la && right is ArrayValue ra)
        {
            if (op == "+")
            {
                return new ArrayValue([.. la.Items, .. ra.Items]);
            }
        }
        else if (right is ArrayValue arr)
        {
            if (op is "in" or "not in")
            {
                var member = arr.Items.Any(x => Values.StrictEquals(x, left));
                return BoolValue.Of(op == "in" ? member : !member);
            }
        }

        if ((left is StringValue || right is StringValue) && op == "+")
        {
            return Concat(Str(left), Str(right));
        }

        if (left is StringValue ls && right is StringValue rs && op is "in" or "not in")
        {
            var contains = rs.Value.Contains(ls.Value, StringComparison.Ordinal);
            return BoolValue.Of(op == "in" ? contains : !contains);
        }

        if (left is StringValue key && right is ObjectValue obj && op is "in" or "not in")
        {
            var has = obj.Entries.ContainsKey(key.Value);
            return BoolValue.Of(op == "in" ? has : !has);
        }

        throw Interpreter.Fail($"Unknown operator \"{op}\" between {left.TypeName} and {right.TypeName}");
    }

    // `left.value.toString()` in the oracle: the JavaScript value's string (a number as JavaScript prints it;
    // an array joins its items' runtime strings with commas; an object is "[object Map]").
    private static string Str(Value v) => v switch
    {
        StringValue s => s.Value,
        IntValue i => i.ToString(),
        FloatValue f => FloatValue.JsNumber(f.Value),
        BoolValue b => b.ToString(),
        ArrayValue a => string.Join(",", a.Items.Select(x => x.ToString())),
        ObjectValue or NamespaceValue => "[object Map]",
        _ => v.ToString(),
    };
}
