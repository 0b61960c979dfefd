using System.Text;

namespace Alpaca.Llm.Chat.Jinja;

/// <summary>
/// Evaluates the AST as @huggingface/jinja's Interpreter does (scoping, lenient undefined, operator rules,
/// loops with <c>loop.*</c>, macros and call blocks, namespaces). Rendering is bounded — evaluation steps,
/// output length, call depth, range() size — so a hostile template fails with a clear error, never hangs.
/// </summary>
internal sealed partial class Interpreter(RenderLimits limits)
{
    private long _steps;
    private int _callDepth;

    private sealed class BreakSignal : Exception;

    private sealed class ContinueSignal : Exception;

    public string Render(List<Node> program, Scope scope) => RenderBlock(program, scope);

    internal static JinjaException Fail(string message) => new(message);

    private void Step()
    {
        if (++_steps > limits.MaxSteps)
        {
            throw Fail($"The template did not finish within {limits.MaxSteps} evaluation steps (a runaway loop?)");
        }
    }

    private void Append(StringBuilder sb, string text)
    {
        if (sb.Length + text.Length > limits.MaxOutputChars)
        {
            throw Fail($"The template's output exceeds {limits.MaxOutputChars} characters");
        }

        sb.Append(text);
    }

    private string RenderBlock(List<Node> statements, Scope scope)
    {
        var sb = new StringBuilder();
        foreach (var statement in statements)
        {
            Step();
            try
            {
                switch (statement)
                {
                    case TemplateText t:
                        Append(sb, t.Value);
                        break;
                    case IfNode i:
                        Append(sb, RenderIf(i, scope));
                        break;
                    case ForNode f:
                        Append(sb, RenderFor(f, scope));
                        break;
                    case SetNode s:
                        ExecuteSet(s, scope);
                        break;
                    case CommentNode:
                        break;
                    default:
                        var v = Evaluate(statement, scope);
                        if (v is not (NullValue or UndefinedValue))
                        {
                            Append(sb, v.ToString());
                        }

                        break;
                }
            }
            catch (JinjaException e)
            {
                throw e.At(statement.Pos);
            }
        }

        return sb.ToString();
    }

    private string RenderIf(IfNode node, Scope scope) =>
        RenderBlock(Evaluate(node.Test, scope).Truthy ? node.Body : node.Alternate, scope);

    private void ExecuteSet(SetNode node, Scope scope)
    {
        var rhs = node.Value is not null ? Evaluate(node.Value, scope) : new StringValue(RenderBlock(node.Body, scope));
        switch (node.Assignee)
        {
            case IdentifierNode id:
                scope.Set(id.Name, rhs);
                break;
            case TupleLiteral tuple:
                if (rhs is not ArrayValue arr)
                {
                    throw Fail($"Cannot unpack non-iterable type in set: {rhs.TypeName}");
                }

                if (arr.Items.Count != tuple.Items.Count)
                {
                    throw Fail($"Too {(tuple.Items.Count > arr.Items.Count ? "few" : "many")} items to unpack in set");
                }

                for (var i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not IdentifierNode target)
                    {
                        throw Fail("Cannot unpack to non-identifier in set");
                    }

                    scope.Set(target.Name, arr.Items[i]);
                }

                break;
            case MemberNode member:
                if (Evaluate(member.Object, scope) is not NamespaceValue ns)
                {
                    throw Fail("cannot assign attribute on non-namespace object");
                }

                if (member.Property is not IdentifierNode prop || member.Computed)
                {
                    throw Fail("Cannot assign to member with non-identifier property");
                }

                ns.Entries[prop.Name] = rhs;
                break;
            default:
                throw Fail("Invalid left-hand side in set");
        }
    }

    private static void BindLoopVariable(Node loopVar, Value current, Scope scope)
    {
        if (loopVar is IdentifierNode id)
        {
            scope.Set(id.Name, current);
            return;
        }

        var targets = ((TupleLiteral)loopVar).Items;
        var values = current is ArrayValue a ? a.Items : [];
        for (var j = 0; j < targets.Count; j++)
        {
            if (targets[j] is not IdentifierNode t)
            {
                throw Fail("Cannot unpack non-identifier type");
            }

            scope.Set(t.Name, j < values.Count ? values[j] : UndefinedValue.Instance);
        }
    }

    private string RenderFor(ForNode node, Scope outer)
    {
        var scope = new Scope(outer);
        Node? test = null;
        Value iterable;
        if (node.Iterable is SelectNode select)
        {
            iterable = Evaluate(select.Lhs, scope);
            test = select.Test;
        }
        else
        {
            iterable = Evaluate(node.Iterable, scope);
        }

        List<Value> candidates = iterable switch
        {
            ArrayValue a => a.Items,
            ObjectValue o => [.. o.Entries.Keys.Select(k => (Value)new StringValue(k))],
            _ => throw Fail($"Expected iterable or object type in for loop: got {iterable.TypeName}"),
        };

        var items = new List<Value>(candidates.Count);
        foreach (var current in candidates)
        {
            Step();
            if (node.LoopVar is TupleLiteral tuple)
            {
                if (current is not ArrayValue pair)
                {
                    throw Fail($"Cannot unpack non-iterable type: {current.TypeName}");
                }

                if (pair.Items.Count != tuple.Items.Count)
                {
                    throw Fail($"Too {(tuple.Items.Count > pair.Items.Count ? "few" : "many")} items to unpack");
                }
            }

            if (test is not null)
            {
                var loopScope = new Scope(scope);
                BindLoopVariable(node.LoopVar, current, loopScope);
                if (!Evaluate(test, loopScope).Truthy)
                {
                    continue;
                }
            }

            items.Add(current);
        }

        var sb = new StringBuilder();
        var noIteration = true;
        for (var i = 0; i < items.Count; i++)
        {
            scope.Set("loop", Loop(i, items));
            BindLoopVariable(node.LoopVar, items[i], scope);
            try
            {
                Append(sb, RenderBlock(node.Body, scope));
            }
            catch (ContinueSignal)
            {
                continue;
            }
            catch (BreakSignal)
            {
                break;
            }

            noIteration = false;
        }

        if (noIteration)
        {
            Append(sb, RenderBlock(node.DefaultBlock, scope));
        }

        return sb.ToString();
    }

    private static ObjectValue Loop(int i, List<Value> items) => new(new OrderedDictionary<string, Value>
    {
        ["index"] = new IntValue(i + 1),
        ["index0"] = new IntValue(i),
        ["revindex"] = new IntValue(items.Count - i),
        ["revindex0"] = new IntValue(items.Count - i - 1),
        ["first"] = BoolValue.Of(i == 0),
        ["last"] = BoolValue.Of(i == items.Count - 1),
        ["length"] = new IntValue(items.Count),
        ["previtem"] = i > 0 ? items[i - 1] : UndefinedValue.Instance,
        ["nextitem"] = i < items.Count - 1 ? items[i + 1] : UndefinedValue.Instance,
    });

    public Value Evaluate(Node? node, Scope scope)
    {
        if (node is null)
        {
            return UndefinedValue.Instance;
        }

        Step();
        try
        {
            return node switch
            {
                IdentifierNode id => scope.Lookup(id.Name),
                IntegerLiteral i => new IntValue(i.Value),
                FloatLiteral f => new FloatValue(f.Value),
                StringLiteral s => new StringValue(s.Value),
                TemplateText t => new StringValue(t.Value),
                BinaryNode b => EvaluateBinary(b, scope),
                MemberNode m => EvaluateMember(m, scope),
                CallNode c => EvaluateCall(c, scope),
                FilterNode f => ApplyFilter(Evaluate(f.Operand, scope), f.Filter, scope),
                TestNode t => EvaluateTest(t, scope),
                TernaryNode t => Evaluate(t.Condition, scope).Truthy ? Evaluate(t.TrueExpr, scope) : Evaluate(t.FalseExpr, scope),
                UnaryNode u => EvaluateUnary(u, scope),
                ArrayLiteral a => new ArrayValue([.. a.Items.Select(x => Evaluate(x, scope))]),
                TupleLiteral t => new TupleValue([.. t.Items.Select(x => Evaluate(x, scope))]),
                ObjectLiteral o => EvaluateObject(o, scope),
                SelectNode s => Evaluate(s.Test, scope).Truthy ? Evaluate(s.Lhs, scope) : UndefinedValue.Instance,
                IfNode i => new StringValue(RenderIf(i, scope)),
                SetNode s => SetAndNull(s, scope),
                ForNode f => new StringValue(RenderFor(f, scope)),
                MacroNode m => DefineMacro(m, scope),
                CallBlockNode c => EvaluateCallBlock(c, scope),
                FilterBlockNode f => ApplyFilter(new StringValue(RenderBlock(f.Body, scope)), f.Filter, scope),
                CommentNode => NullValue.Instance,
                BreakNode => throw new BreakSignal(),
                ContinueNode => throw new ContinueSignal(),
                _ => throw Fail($"Unknown node type: {node.GetType().Name}"),
            };
        }
        catch (JinjaException e)
        {
            throw e.At(node.Pos);
        }
    }

    private Value SetAndNull(SetNode s, Scope scope)
    {
        ExecuteSet(s, scope);
        return NullValue.Instance;
    }

    private Value EvaluateObject(ObjectLiteral o, Scope scope)
    {
        var d = new OrderedDictionary<string, Value>();
        foreach (var (k, v) in o.Entries)
        {
            if (Evaluate(k, scope) is not StringValue key)
            {
                throw Fail("Object keys must be strings");
            }

            d[key.Value] = Evaluate(v, scope);
        }

        return new ObjectValue(d);
    }

    private Value EvaluateUnary(UnaryNode node, Scope scope)
    {
        var argument = Evaluate(node.Argument, scope);
        if (node.Op == "not")
        {
            return BoolValue.Of(!argument.Truthy);
        }

        var sign = node.Op == "-" ? -1 : 1;
        return argument switch
        {
            FloatValue f => new FloatValue(sign * f.Value),
            IntValue i => new IntValue(sign * i.Value),
            BoolValue b => new IntValue(sign * (b.Value ? 1 : 0)),
            _ => throw Fail($"Unknown operator \"{node.Op}\" for {argument.TypeName}"),
        };
    }

    private Value EvaluateTest(TestNode node, Scope scope)
    {
        var operand = Evaluate(node.Operand, scope);
        var test = Tests.Get(node.Test) ?? throw Fail($"Unknown test: {node.Test}");
        var result = test(operand, null);
        return BoolValue.Of(node.Negate ? !result : result);
    }

    private Value EvaluateBinary(BinaryNode node, Scope scope)
    {
        var op = node.Op;
        var left = Evaluate(node.Left, scope);
        if (op == "and")
        {
            return left.Truthy ? Evaluate(node.Right, scope) : left;
        }

        if (op == "or")
        {
            return left.Truthy ? left : Evaluate(node.Right, scope);
        }

        var right = Evaluate(node.Right, scope);
        return Operators.Binary(op, left, right);
    }

    private Value EvaluateCall(CallNode node, Scope scope)
    {
        var args = CallArguments(node.Args, scope);
        var fn = Evaluate(node.Callee, scope);
        if (fn is not FunctionValue f)
        {
            throw Fail(node.Callee is IdentifierNode id && fn is UndefinedValue
                ? $"Unknown function '{id.Name}'"
                : $"Cannot call something that is not a function: got {fn.TypeName}");
        }

        if (++_callDepth > limits.MaxCallDepth)
        {
            throw Fail($"Calls nest deeper than {limits.MaxCallDepth} levels (unbounded macro recursion?)");
        }

        try
        {
            return f.Function(args, scope);
        }
        finally
        {
            _callDepth--;
        }
    }

    /// <summary>Positional arguments, then one <see cref="KeywordArgs"/> when there are keyword arguments.</summary>
    private List<Value> CallArguments(List<Node> args, Scope scope)
    {
        var (positional, keywords) = Arguments(args, scope);
        if (keywords.Count > 0)
        {
            positional.Add(new KeywordArgs(keywords));
        }

        return positional;
    }

    private (List<Value> Positional, OrderedDictionary<string, Value> Keywords) Arguments(List<Node> args, Scope scope)
    {
        var positional = new List<Value>();
        var keywords = new OrderedDictionary<string, Value>();
        foreach (var a in args)
        {
            if (a is SpreadNode spread)
            {
                if (Evaluate(spread.Argument, scope) is not ArrayValue arr)
                {
                    throw Fail("Cannot unpack non-iterable type");
                }

                positional.AddRange(arr.Items);
            }
            else if (a is not (KeywordArgNode or KeywordSpreadNode))
            {
                positional.Add(Evaluate(a, scope));
            }
        }

        foreach (var a in args)
        {
            if (a is KeywordArgNode kw)
            {
                if (!keywords.TryAdd(kw.Key, Evaluate(kw.Value, scope)))
                {
                    throw Fail($"Got multiple values for keyword argument '{kw.Key}'");
                }
            }
            else if (a is KeywordSpreadNode ks)
            {
                if (Evaluate(ks.Argument, scope) is not ObjectValue o)
                {
                    throw Fail("Argument after ** must be a mapping");
                }

                foreach (var (k, v) in o.Entries)
                {
                    if (!keywords.TryAdd(k, v))
                    {
                        throw Fail($"Got multiple values for keyword argument '{k}'");
                    }
                }
            }
        }

        return (positional, keywords);
    }

    private Value EvaluateMember(MemberNode node, Scope scope)
    {
        var obj = Evaluate(node.Object, scope);
        Value property;
        if (node.Computed)
        {
            if (node.Property is SliceNode slice)
            {
                return EvaluateSlice(obj, slice, scope);
            }

            property = Evaluate(node.Property, scope);
        }
        else
        {
            property = node.Property is IntegerLiteral i ? new IntValue(i.Value) : new StringValue(((IdentifierNode)node.Property).Name);
        }

        Value? value;
        if (obj is ObjectValue or NamespaceValue)
        {
            if (property is not StringValue key)
            {
                throw Fail($"Cannot access property with non-string: got {property.TypeName}");
            }

            var entries = obj is ObjectValue o ? o.Entries : ((NamespaceValue)obj).Entries;
            value = entries.TryGetValue(key.Value, out var v) ? v : obj is ObjectValue ov ? Builtins.OfObject(ov, key.Value) : null;
        }
        else if (obj is ArrayValue or StringValue)
        {
            if (property is IntValue index)
            {
                if (obj is StringValue s)
                {
                    var at = index.Value < 0 ? s.Value.Length + index.Value : index.Value;
                    value = at >= 0 && at < s.Value.Length ? new StringValue(s.Value[(int)at].ToString()) : null;
                }
                else
                {
                    var items = ((ArrayValue)obj).Items;
                    var at = index.Value < 0 ? items.Count + index.Value : index.Value;
                    value = at >= 0 && at < items.Count ? items[(int)at] : null;
                }
            }
            else if (property is StringValue name)
            {
                value = obj is StringValue s ? Builtins.OfString(s, name.Value) : name.Value == "length" ? new IntValue(((ArrayValue)obj).Items.Count) : null;
            }
            else
            {
                throw Fail($"Cannot access property with non-string/non-number: got {property.TypeName}");
            }
        }
        else
        {
            if (property is not StringValue)
            {
                throw Fail($"Cannot access property with non-string: got {property.TypeName}");
            }

            value = null;
        }

        return value ?? UndefinedValue.Instance;
    }

    private Value EvaluateSlice(Value obj, SliceNode node, Scope scope)
    {
        if (obj is not (ArrayValue or StringValue))
        {
            throw Fail("Slice object must be an array or string");
        }

        long? Bound(Node? n, string what) => Evaluate(n, scope) switch
        {
            IntValue i => i.Value,
            UndefinedValue => null,
            _ => throw Fail($"Slice {what} must be numeric or undefined"),
        };

        var start = Bound(node.Start, "start");
        var stop = Bound(node.Stop, "stop");
        var step = Bound(node.Step, "step");
        if (obj is ArrayValue a)
        {
            return new ArrayValue(Slice(a.Items, start, stop, step));
        }

        // The oracle slices strings by code point (Array.from).
        var s = ((StringValue)obj).Value;
        return new StringValue(string.Concat(Slice(CodePoints(s), start, stop, step)));
    }

    private static List<string> CodePoints(string s)
    {
        var points = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                points.Add(s.Substring(i++, 2));
            }
            else
            {
                points.Add(s[i].ToString());
            }
        }

        return points;
    }

    internal static List<T> Slice<T>(List<T> array, long? startArg, long? stopArg, long? stepArg)
    {
        var step = stepArg ?? 1;
        if (step == 0)
        {
            return []; // the oracle's loop never runs for a zero step
        }

        long n = array.Count;
        long start, stop;
        if (step > 0)
        {
            var s0 = startArg ?? 0;
            start = s0 < 0 ? Math.Max(n + s0, 0) : Math.Min(s0, n);
            var e0 = stopArg ?? n;
            stop = e0 < 0 ? Math.Max(n + e0, 0) : Math.Min(e0, n);
        }
        else
        {
            var s0 = startArg ?? n - 1;
            start = s0 < 0 ? Math.Max(n + s0, -1) : Math.Min(s0, n - 1);
            var e0 = stopArg ?? -1;
            stop = e0 < -1 ? Math.Max(n + e0, -1) : Math.Min(e0, n - 1);
        }

        var result = new List<T>();
        var direction = Math.Sign(step);
        for (var i = start; direction * i < direction * stop; i += step)
        {
            result.Add(array[(int)i]);
        }

        return result;
    }
}
