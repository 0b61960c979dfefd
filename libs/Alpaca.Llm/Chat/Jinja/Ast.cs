namespace Alpaca.Llm.Chat.Jinja;

// The node types of @huggingface/jinja's AST; every node remembers where it starts in the template.
internal abstract record Node(SourcePos Pos);

internal sealed record TemplateText(SourcePos Pos, string Value) : Node(Pos);

internal sealed record CommentNode(SourcePos Pos) : Node(Pos);

internal sealed record IfNode(SourcePos Pos, Node Test, List<Node> Body, List<Node> Alternate) : Node(Pos);

internal sealed record ForNode(SourcePos Pos, Node LoopVar, Node Iterable, List<Node> Body, List<Node> DefaultBlock) : Node(Pos);

internal sealed record BreakNode(SourcePos Pos) : Node(Pos);

internal sealed record ContinueNode(SourcePos Pos) : Node(Pos);

internal sealed record SetNode(SourcePos Pos, Node Assignee, Node? Value, List<Node> Body) : Node(Pos);

internal sealed record MacroNode(SourcePos Pos, string Name, List<Node> Args, List<Node> Body) : Node(Pos);

internal sealed record CallBlockNode(SourcePos Pos, CallNode Call, List<Node>? CallerArgs, List<Node> Body) : Node(Pos);

internal sealed record FilterBlockNode(SourcePos Pos, Node Filter, List<Node> Body) : Node(Pos);

internal sealed record IdentifierNode(SourcePos Pos, string Name) : Node(Pos);

internal sealed record IntegerLiteral(SourcePos Pos, long Value) : Node(Pos);

internal sealed record FloatLiteral(SourcePos Pos, double Value) : Node(Pos);

internal sealed record StringLiteral(SourcePos Pos, string Value) : Node(Pos);

internal sealed record ArrayLiteral(SourcePos Pos, List<Node> Items) : Node(Pos);

internal sealed record TupleLiteral(SourcePos Pos, List<Node> Items) : Node(Pos);

internal sealed record ObjectLiteral(SourcePos Pos, List<(Node Key, Node Value)> Entries) : Node(Pos);

internal sealed record MemberNode(SourcePos Pos, Node Object, Node Property, bool Computed) : Node(Pos);

internal sealed record CallNode(SourcePos Pos, Node Callee, List<Node> Args) : Node(Pos);

internal sealed record BinaryNode(SourcePos Pos, string Op, Node Left, Node Right) : Node(Pos);

internal sealed record UnaryNode(SourcePos Pos, string Op, Node Argument) : Node(Pos);

internal sealed record FilterNode(SourcePos Pos, Node Operand, Node Filter) : Node(Pos);

internal sealed record TestNode(SourcePos Pos, Node Operand, bool Negate, string Test) : Node(Pos);

internal sealed record SelectNode(SourcePos Pos, Node Lhs, Node Test) : Node(Pos);

internal sealed record TernaryNode(SourcePos Pos, Node Condition, Node TrueExpr, Node FalseExpr) : Node(Pos);

internal sealed record SliceNode(SourcePos Pos, Node? Start, Node? Stop, Node? Step) : Node(Pos);

internal sealed record KeywordArgNode(SourcePos Pos, string Key, Node Value) : Node(Pos);

internal sealed record SpreadNode(SourcePos Pos, Node Argument) : Node(Pos);

internal sealed record KeywordSpreadNode(SourcePos Pos, Node Argument) : Node(Pos);
