namespace Alpaca.Llm.Chat.Jinja;

/// <summary>A variable scope (the oracle's Environment): a for loop or a macro call opens one; <c>set</c> writes the current one.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, Value> _variables = [];

    public Scope? Parent { get; } = parent;

    /// <summary>True in the scope a <c>{% call %}</c> block opens for the macro it calls.</summary>
    public bool CallBlock { get; init; }

    public void Set(string name, Value value) => _variables[name] = value;

    public bool TryGetLocal(string name, out Value value) => _variables.TryGetValue(name, out value!);

    public Value Lookup(string name)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._variables.TryGetValue(name, out var v))
            {
                return v;
            }
        }

        return UndefinedValue.Instance;
    }
}
