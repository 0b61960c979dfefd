namespace Alpaca.Llm.Chat.Jinja;

/// <summary>Macros and <c>{% call %}</c> blocks, with the oracle's argument binding (defaults, kwargs, varargs, caller).</summary>
internal sealed partial class Interpreter
{
    private static HashSet<string> SpecialNames(IEnumerable<Node> parameters, List<Node> body)
    {
        // Which of caller/kwargs/varargs the body reads (and does not declare): those the macro accepts.
        var declared = parameters.Select(ParameterName).Where(IsSpecial).ToHashSet();
        var accessed = new HashSet<string>();
        void Visit(Node? node)
        {
            switch (node)
            {
                case null:
                    return;
                case IdentifierNode id:
                    if (IsSpecial(id.Name) && !declared.Contains(id.Name))
                    {
                        accessed.Add(id.Name);
                    }

                    return;
                case MacroNode or CallBlockNode:
                    return; // their own special names belong to them
            }

            foreach (var child in Children(node))
            {
                Visit(child);
            }
        }

        body.ForEach(Visit);
        return accessed;
    }

    private static bool IsSpecial(string name) => name is "caller" or "kwargs" or "varargs";

    private static string ParameterName(Node parameter) => parameter switch
    {
        IdentifierNode id => id.Name,
        KeywordArgNode kw => kw.Key,
        _ => throw Fail("Expected identifier for parameter declaration"),
    };

    private static IEnumerable<Node> Children(Node node) => node switch
    {
        IfNode n => [n.Test, .. n.Body, .. n.Alternate],
        ForNode n => [n.Iterable, .. n.Body, .. n.DefaultBlock],
        SetNode n => n.Value is null ? n.Body : [n.Value, .. n.Body],
        FilterBlockNode n => [n.Filter, .. n.Body],
        MemberNode n => n.Computed ? [n.Object, n.Property] : [n.Object],
        CallNode n => [n.Callee, .. n.Args],
        BinaryNode n => [n.Left, n.Right],
        UnaryNode n => [n.Argument],
        FilterNode n => [n.Operand, n.Filter],
        TestNode n => [n.Operand],
        SelectNode n => [n.Lhs, n.Test],
        TernaryNode n => [n.Condition, n.TrueExpr, n.FalseExpr],
        SliceNode n => new[] { n.Start, n.Stop, n.Step }.OfType<Node>(),
        KeywordArgNode n => [n.Value],
        SpreadNode n => [n.Argument],
        KeywordSpreadNode n => [n.Argument],
        ArrayLiteral n => n.Items,
        TupleLiteral n => n.Items,
        ObjectLiteral n => n.Entries.SelectMany(e => new[] { e.Key, e.Value }),
        _ => [],
    };

    private void BindArguments(string displayName, List<Node> parameters, HashSet<string> special, List<Value> args, Scope scope)
    {
        var positional = new List<Value>(args);
        var keywords = new OrderedDictionary<string, Value>();
        if (positional.Count > 0 && positional[^1] is KeywordArgs kw)
        {
            positional.RemoveAt(positional.Count - 1);
            foreach (var (k, v) in kw.Entries)
            {
                keywords[k] = v;
            }
        }

        var pendingDefaults = new List<(string Name, Node Default)>();
        for (var i = 0; i < parameters.Count; i++)
        {
            var name = ParameterName(parameters[i]);
            Value? value = i < positional.Count ? positional[i] : null;
            if (value is null && keywords.Remove(name, out var named))
            {
                value = named;
            }

            if (value is null && parameters[i] is KeywordArgNode withDefault)
            {
                pendingDefaults.Add((name, withDefault.Value));
            }

            scope.Set(name, value ?? UndefinedValue.Instance);
        }

        if (special.Contains("kwargs"))
        {
            scope.Set("kwargs", new ObjectValue(keywords));
        }
        else if (keywords.Count > 0)
        {
            throw Fail($"macro {displayName} takes no keyword argument '{keywords.GetAt(0).Key}'");
        }

        if (special.Contains("varargs"))
        {
            scope.Set("varargs", new ArrayValue([.. positional.Skip(parameters.Count)]));
        }
        else if (positional.Count > parameters.Count)
        {
            throw Fail($"macro {displayName} takes not more than {parameters.Count} argument(s)");
        }

        foreach (var (name, defaultValue) in pendingDefaults)
        {
            scope.Set(name, Evaluate(defaultValue, scope));
        }
    }

    private Value DefineMacro(MacroNode node, Scope environment)
    {
        var special = SpecialNames(node.Args, node.Body);
        environment.Set(node.Name, new FunctionValue((args, callSite) =>
        {
            var parent = environment;
            if (special.Contains("caller"))
            {
                var caller = callSite.CallBlock && callSite.TryGetLocal("caller", out var c) ? c : UndefinedValue.Instance;
                parent = new Scope(environment);
                parent.Set("caller", caller);
            }

            var macroScope = new Scope(parent);
            BindArguments($"'{node.Name}'", node.Args, special, args, macroScope);
            return new StringValue(RenderBlock(node.Body, macroScope));
        }));
        return NullValue.Instance;
    }

    private Value EvaluateCallBlock(CallBlockNode node, Scope environment)
    {
        var parameters = node.CallerArgs ?? [];
        var special = SpecialNames(parameters, node.Body);
        var caller = new FunctionValue((callerArgs, _) =>
        {
            var callBlockScope = new Scope(environment);
            BindArguments("None", parameters, special, callerArgs, callBlockScope);
            return new StringValue(RenderBlock(node.Body, callBlockScope));
        });
        var (macroArgs, macroKeywords) = Arguments(node.Call.Args, environment);
        macroArgs.Add(new KeywordArgs(macroKeywords));
        if (Evaluate(node.Call.Callee, environment) is not FunctionValue fn)
        {
            throw Fail("Cannot call something that is not a function");
        }

        var callScope = new Scope(environment) { CallBlock = true };
        callScope.Set("caller", caller);
        if (++_callDepth > limits.MaxCallDepth)
        {
            throw Fail($"Calls nest deeper than {limits.MaxCallDepth} levels (unbounded macro recursion?)");
        }

        try
        {
            return fn.Function(macroArgs, callScope);
        }
        finally
        {
            _callDepth--;
        }
    }
}
