namespace Alpaca.Llm.Chat.Jinja;

/// <summary>The <c>is</c> tests of the oracle (a test gets its operand and, from selectattr, a value).</summary>
internal static class Tests
{
    public delegate bool Test(Value operand, Value? argument);

    private static readonly Dictionary<string, Test> All = new()
    {
        ["boolean"] = (o, _) => o is BoolValue,
        ["callable"] = (o, _) => o is FunctionValue,
        ["odd"] = (o, _) => o is IntValue i ? i.Value % 2 != 0 : throw Interpreter.Fail($"cannot odd on {o.TypeName}"),
        ["even"] = (o, _) => o is IntValue i ? i.Value % 2 == 0 : throw Interpreter.Fail($"cannot even on {o.TypeName}"),
        ["false"] = (o, _) => o is BoolValue { Value: false },
        ["true"] = (o, _) => o is BoolValue { Value: true },
        ["none"] = (o, _) => o is NullValue,
        ["string"] = (o, _) => o is StringValue,
        ["number"] = (o, _) => o is IntValue or FloatValue,
        ["integer"] = (o, _) => o is IntValue,
        ["iterable"] = (o, _) => (o is ArrayValue && o is not TupleValue) || o is StringValue,
        ["mapping"] = (o, _) => o is ObjectValue,
        ["sequence"] = (o, _) => o is ArrayValue or ObjectValue or StringValue,
        ["lower"] = (o, _) => o is StringValue s && s.Value == s.Value.ToLowerInvariant(),
        ["upper"] = (o, _) => o is StringValue s && s.Value == s.Value.ToUpperInvariant(),
        ["defined"] = (o, _) => o is not UndefinedValue,
        ["undefined"] = (o, _) => o is UndefinedValue,
        ["equalto"] = (a, b) => Values.StrictEquals(a, b ?? UndefinedValue.Instance),
        ["eq"] = (a, b) => Values.StrictEquals(a, b ?? UndefinedValue.Instance),
    };

    public static Test? Get(string name) => All.GetValueOrDefault(name);
}
