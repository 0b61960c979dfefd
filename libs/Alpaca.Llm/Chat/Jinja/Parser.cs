using System.Globalization;

namespace Alpaca.Llm.Chat.Jinja;

/// <summary>
/// The recursive-descent parser of @huggingface/jinja, same grammar and precedence (if-expression, or,
/// and, not, comparison/in, additive, multiplicative, power, is-test, filter, unary sign, call/member,
/// primary). Errors carry the position of the token at fault; nesting is bounded so a hostile template
/// cannot overflow the stack.
/// </summary>
internal sealed class Parser
{
    private const int MaxDepth = 200;
    private readonly List<Token> _tokens;
    private readonly SourcePos _end;
    private int _current;
    private int _depth;

    private Parser(List<Token> tokens, SourcePos end)
    {
        _tokens = tokens;
        _end = end;
    }

    public static List<Node> Parse(List<Token> tokens, SourcePos end)
    {
        var parser = new Parser(tokens, end);
        var body = new List<Node>();
        while (parser._current < tokens.Count)
        {
            body.Add(parser.ParseAny());
        }

        return body;
    }

    private SourcePos Here => _current < _tokens.Count ? _tokens[_current].Pos : _end;

    private JinjaException Error(string message) => new(message, Here.Line, Here.Column);

    private Token Peek(int ahead = 0) => _current + ahead < _tokens.Count ? _tokens[_current + ahead] : throw Error("Unexpected end of template");

    private Token Expect(TokenType type, string what)
    {
        if (_current >= _tokens.Count)
        {
            throw Error($"Unexpected end of template: {what}");
        }

        var token = _tokens[_current];
        if (token.Type != type)
        {
            throw Error($"{what}, got {Describe(token)}");
        }

        _current++;
        return token;
    }

    private static string Describe(Token t) => t.Type switch
    {
        TokenType.Text => "text",
        TokenType.Identifier => $"'{t.Value}'",
        TokenType.StringLiteral => "a string",
        _ => $"'{t.Value}'",
    };

    private bool Is(params TokenType[] types)
    {
        if (_current + types.Length > _tokens.Count)
        {
            return false;
        }

        for (var i = 0; i < types.Length; i++)
        {
            if (_tokens[_current + i].Type != types[i])
            {
                return false;
            }
        }

        return true;
    }

    private bool IsIdentifier(params string[] names)
    {
        if (_current + names.Length > _tokens.Count)
        {
            return false;
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (_tokens[_current + i].Type != TokenType.Identifier || _tokens[_current + i].Value != names[i])
            {
                return false;
            }
        }

        return true;
    }

    private bool IsStatement(params string[] names) =>
        _current + 1 < _tokens.Count && _tokens[_current].Type == TokenType.OpenStatement
        && _tokens[_current + 1].Type == TokenType.Identifier && names.Contains(_tokens[_current + 1].Value);

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            throw Error($"Expected '{name}'");
        }

        _current++;
    }

    private void EndTag(string name)
    {
        Expect(TokenType.OpenStatement, $"Expected '{{% {name} %}}'");
        ExpectIdentifier(name);
        Expect(TokenType.CloseStatement, "Expected '%}'");
    }

    // A block body up to one of the given statements; reaching the end of the template is a clear error
    // naming the missing end tag rather than an index fault.
    private List<Node> Body(string opener, params string[] until)
    {
        var body = new List<Node>();
        while (!IsStatement(until))
        {
            if (_current >= _tokens.Count)
            {
                throw Error($"Unexpected end of template: '{{% {opener} %}}' is never closed (expected '{{% {until[^1]} %}}')");
            }

            body.Add(ParseAny());
        }

        return body;
    }

    private Node ParseAny()
    {
        if (++_depth > MaxDepth)
        {
            throw Error($"The template nests deeper than {MaxDepth} levels");
        }

        try
        {
            var token = _tokens[_current];
            switch (token.Type)
            {
                case TokenType.Comment:
                    _current++;
                    return new CommentNode(token.Pos);
                case TokenType.Text:
                    _current++;
                    return new TemplateText(token.Pos, token.Value);
                case TokenType.OpenStatement:
                    return ParseStatement();
                case TokenType.OpenExpression:
                    _current++;
                    var result = ParseExpression();
                    Expect(TokenType.CloseExpression, "Expected '}}'");
                    return result;
                default:
                    throw Error($"Unexpected {Describe(token)}");
            }
        }
        finally
        {
            _depth--;
        }
    }

    private Node ParseStatement()
    {
        var open = Expect(TokenType.OpenStatement, "Expected '{%'");
        if (_current >= _tokens.Count || _tokens[_current].Type != TokenType.Identifier)
        {
            throw Error("Expected a statement name after '{%'");
        }

        var name = _tokens[_current].Value;
        var pos = open.Pos;
        switch (name)
        {
            case "set":
                _current++;
                return ParseSet(pos);
            case "if":
                {
                    _current++;
                    var result = ParseIf(pos);
                    EndTag("endif");
                    return result;
                }

            case "macro":
                {
                    _current++;
                    var nameNode = ParsePrimary();
                    if (nameNode is not IdentifierNode id)
                    {
                        throw Error("Expected identifier following macro statement");
                    }

                    var args = ParseArgs(parameters: true);
                    Expect(TokenType.CloseStatement, "Expected '%}'");
                    var body = Body("macro", "endmacro");
                    EndTag("endmacro");
                    return new MacroNode(pos, id.Name, args, body);
                }

            case "for":
                {
                    _current++;
                    var result = ParseFor(pos);
                    EndTag("endfor");
                    return result;
                }

            case "call":
                {
                    _current++;
                    List<Node>? callerArgs = Is(TokenType.OpenParen) ? ParseArgs(parameters: true) : null;
                    var callee = ParsePrimary();
                    if (callee is not IdentifierNode)
                    {
                        throw Error("Expected identifier following call statement");
                    }

                    var callArgs = ParseArgs(parameters: false);
                    Expect(TokenType.CloseStatement, "Expected '%}'");
                    var body = Body("call", "endcall");
                    EndTag("endcall");
                    return new CallBlockNode(pos, new CallNode(callee.Pos, callee, callArgs), callerArgs, body);
                }

            case "break":
                _current++;
                Expect(TokenType.CloseStatement, "Expected '%}'");
                return new BreakNode(pos);
            case "continue":
                _current++;
                Expect(TokenType.CloseStatement, "Expected '%}'");
                return new ContinueNode(pos);
            case "filter":
                {
                    _current++;
                    var filter = ParsePrimary();
                    if (filter is IdentifierNode && Is(TokenType.OpenParen))
                    {
                        filter = ParseCall(filter);
                    }

                    Expect(TokenType.CloseStatement, "Expected '%}'");
                    var body = Body("filter", "endfilter");
                    EndTag("endfilter");
                    return new FilterBlockNode(pos, filter, body);
                }

            default:
                throw Error($"Unknown statement '{name}'");
        }
    }

    private Node ParseSet(SourcePos pos)
    {
        var left = ParseExpressionSequence();
        Node? value = null;
        var body = new List<Node>();
        if (Is(TokenType.Equals))
        {
            _current++;
            value = ParseExpressionSequence();
        }
        else
        {
            Expect(TokenType.CloseStatement, "Expected '=' or '%}' in set");
            body = Body("set", "endset");
            Expect(TokenType.OpenStatement, "Expected '{%'");
            ExpectIdentifier("endset");
        }

        Expect(TokenType.CloseStatement, "Expected '%}'");
        return new SetNode(pos, left, value, body);
    }

    private IfNode ParseIf(SourcePos pos)
    {
        var test = ParseExpression();
        Expect(TokenType.CloseStatement, "Expected '%}'");
        var body = Body("if", "elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            var elifPos = Peek().Pos;
            _current += 2;
            alternate.Add(ParseIf(elifPos));
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "Expected '%}'");
            alternate = Body("if", "endif");
        }

        return new IfNode(pos, test, body, alternate);
    }

    private ForNode ParseFor(SourcePos pos)
    {
        var loopVar = ParseExpressionSequence(primary: true);
        if (loopVar is not (IdentifierNode or TupleLiteral))
        {
            throw Error("Expected identifier/tuple for the loop variable");
        }

        if (!IsIdentifier("in"))
        {
            throw Error("Expected 'in' keyword following loop variable");
        }

        _current++;
        var iterable = ParseExpression();
        Expect(TokenType.CloseStatement, "Expected '%}'");
        var body = Body("for", "endfor", "else");
        var alternative = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "Expected '%}'");
            alternative = Body("for", "endfor");
        }

        return new ForNode(pos, loopVar, iterable, body, alternative);
    }

    private Node ParseExpressionSequence(bool primary = false)
    {
        var pos = Here;
        var expressions = new List<Node> { primary ? ParsePrimary() : ParseExpression() };
        var isTuple = Is(TokenType.Comma);
        while (isTuple)
        {
            _current++;
            expressions.Add(primary ? ParsePrimary() : ParseExpression());
            if (!Is(TokenType.Comma))
            {
                break;
            }
        }

        return isTuple ? new TupleLiteral(pos, expressions) : expressions[0];
    }

    private Node ParseExpression()
    {
        if (++_depth > MaxDepth)
        {
            throw Error($"The template nests deeper than {MaxDepth} levels");
        }

        try
        {
            return ParseIfExpression();
        }
        finally
        {
            _depth--;
        }
    }

    private Node ParseIfExpression()
    {
        var a = ParseOr();
        if (IsIdentifier("if"))
        {
            _current++;
            var test = ParseOr();
            if (IsIdentifier("else"))
            {
                _current++;
                return new TernaryNode(a.Pos, test, a, ParseIfExpression());
            }

            return new SelectNode(a.Pos, a, test);
        }

        return a;
    }

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (IsIdentifier("or"))
        {
            var pos = Peek().Pos;
            _current++;
            left = new BinaryNode(pos, "or", left, ParseAnd());
        }

        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (IsIdentifier("and"))
        {
            var pos = Peek().Pos;
            _current++;
            left = new BinaryNode(pos, "and", left, ParseNot());
        }

        return left;
    }

    private Node ParseNot()
    {
        Node? right = null;
        while (IsIdentifier("not"))
        {
            var pos = Peek().Pos;
            _current++;
            right = new UnaryNode(pos, "not", ParseNot());
        }

        return right ?? ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            var pos = Here;
            if (IsIdentifier("not", "in"))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                _current++;
            }
            else if (Is(TokenType.ComparisonBinaryOperator))
            {
                op = _tokens[_current++].Value;
            }
            else
            {
                break;
            }

            left = new BinaryNode(pos, op, left, ParseAdditive());
        }

        return left;
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, op.Value, left, ParseMultiplicative());
        }

        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, op.Value, left, ParsePower());
        }

        return left;
    }

    private Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, op.Value, left, ParseTest());
        }

        return left;
    }

    private Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            var pos = Peek().Pos;
            _current++;
            var negate = IsIdentifier("not");
            if (negate)
            {
                _current++;
            }

            if (ParsePrimary() is not IdentifierNode test)
            {
                throw Error("Expected identifier for the test");
            }

            operand = new TestNode(pos, operand, negate, test.Name);
        }

        return operand;
    }

    private Node ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            _current++;
            var filter = ParsePrimary();
            if (filter is not IdentifierNode)
            {
                throw Error("Expected identifier for the filter");
            }

            if (Is(TokenType.OpenParen))
            {
                filter = ParseCall(filter);
            }

            operand = new FilterNode(filter.Pos, operand, filter);
        }

        return operand;
    }

    private Node ParseUnarySign()
    {
        if (_current < _tokens.Count && _tokens[_current] is { Type: TokenType.UnaryOperator or TokenType.AdditiveBinaryOperator, Value: "-" or "+" } token)
        {
            _current++;
            return new UnaryNode(token.Pos, token.Value, ParseUnarySign());
        }

        var member = ParseMember(ParsePrimary());
        return Is(TokenType.OpenParen) ? ParseCall(member) : member;
    }

    private Node ParseCall(Node callee)
    {
        Node expression = new CallNode(callee.Pos, callee, ParseArgs(parameters: false));
        expression = ParseMember(expression);
        if (Is(TokenType.OpenParen))
        {
            expression = ParseCall(expression);
        }

        return expression;
    }

    private List<Node> ParseArgs(bool parameters)
    {
        Expect(TokenType.OpenParen, "Expected '('");
        var args = new List<Node>();
        var names = new HashSet<string>();
        var sawKeyword = false;
        var sawSpread = false;
        while (!Is(TokenType.CloseParen))
        {
            if (_current >= _tokens.Count)
            {
                throw Error("Unexpected end of template: expected ')'");
            }

            var keywordSpread = Is(TokenType.ExponentiationBinaryOperator);
            var positionalSpread = Is(TokenType.MultiplicativeBinaryOperator) && _tokens[_current].Value == "*";
            if (parameters && (keywordSpread || positionalSpread))
            {
                throw Error("Argument unpacking is not allowed in parameter declarations");
            }

            var pos = Here;
            if (keywordSpread)
            {
                _current++;
                args.Add(new KeywordSpreadNode(pos, ParseExpression()));
                if (Is(TokenType.Comma))
                {
                    _current++;
                }

                if (!Is(TokenType.CloseParen))
                {
                    throw Error("Expected ')': '**' must be applied to the final argument");
                }

                break;
            }

            Node argument;
            if (positionalSpread)
            {
                if (sawSpread)
                {
                    throw Error("Only one '*' argument unpacking is allowed");
                }

                sawSpread = true;
                _current++;
                argument = new SpreadNode(pos, ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    _current++;
                    if (argument is not IdentifierNode key)
                    {
                        throw Error(parameters ? "Expected identifier for parameter declaration" : "Expected identifier for keyword argument");
                    }

                    argument = new KeywordArgNode(pos, key.Name, ParseExpression());
                }

                if (parameters)
                {
                    var name = argument switch
                    {
                        IdentifierNode i => i.Name,
                        KeywordArgNode k => k.Key,
                        _ => throw Error("Expected identifier for parameter declaration"),
                    };
                    if (!names.Add(name))
                    {
                        throw Error($"Duplicate parameter name: {name}");
                    }
                }

                if (argument is KeywordArgNode)
                {
                    sawKeyword = true;
                }
                else if (sawKeyword)
                {
                    throw Error(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments");
                }
                else if (sawSpread)
                {
                    throw Error("Positional arguments must not follow '*' argument unpacking");
                }
            }

            args.Add(argument);
            if (Is(TokenType.Comma))
            {
                _current++;
            }
        }

        Expect(TokenType.CloseParen, "Expected ')'");
        return args;
    }

    private Node ParseMemberArguments()
    {
        var pos = Here;
        var slices = new List<Node?>();
        var isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (_current >= _tokens.Count)
            {
                throw Error("Unexpected end of template: expected ']'");
            }

            if (Is(TokenType.Colon))
            {
                slices.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                slices.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }

        if (slices.Count == 0)
        {
            throw Error("Expected at least one argument for member/slice expression");
        }

        if (isSlice)
        {
            if (slices.Count > 3)
            {
                throw Error("Expected 0-3 arguments for slice expression");
            }

            return new SliceNode(pos, slices[0], slices.ElementAtOrDefault(1), slices.ElementAtOrDefault(2));
        }

        return slices[0]!;
    }

    private Node ParseMember(Node obj)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            var op = _tokens[_current++];
            var computed = op.Type == TokenType.OpenSquareBracket;
            Node property;
            if (computed)
            {
                property = ParseMemberArguments();
                Expect(TokenType.CloseSquareBracket, "Expected ']'");
            }
            else
            {
                property = ParsePrimary();
                if (property is not (IdentifierNode or IntegerLiteral))
                {
                    throw Error("Expected identifier or integer following dot operator");
                }
            }

            obj = new MemberNode(op.Pos, obj, property, computed);
        }

        return obj;
    }

    private Node ParsePrimary()
    {
        if (_current >= _tokens.Count)
        {
            throw Error("Unexpected end of template: expected an expression");
        }

        var token = _tokens[_current++];
        switch (token.Type)
        {
            case TokenType.NumericLiteral:
                return token.Value.Contains('.')
                    ? new FloatLiteral(token.Pos, double.Parse(token.Value, CultureInfo.InvariantCulture))
                    : new IntegerLiteral(token.Pos, long.TryParse(token.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : throw new JinjaException($"Integer literal out of range: {token.Value}", token.Pos.Line, token.Pos.Column));
            case TokenType.StringLiteral:
                {
                    var value = token.Value;
                    while (Is(TokenType.StringLiteral))
                    {
                        value += _tokens[_current++].Value;
                    }

                    return new StringLiteral(token.Pos, value);
                }

            case TokenType.Identifier:
                return new IdentifierNode(token.Pos, token.Value);
            case TokenType.OpenParen:
                {
                    var expression = ParseExpressionSequence();
                    Expect(TokenType.CloseParen, "Expected ')'");
                    return expression;
                }

            case TokenType.OpenSquareBracket:
                {
                    var values = new List<Node>();
                    while (!Is(TokenType.CloseSquareBracket))
                    {
                        if (_current >= _tokens.Count)
                        {
                            throw Error("Unexpected end of template: expected ']'");
                        }

                        values.Add(ParseExpression());
                        if (Is(TokenType.Comma))
                        {
                            _current++;
                        }
                    }

                    _current++;
                    return new ArrayLiteral(token.Pos, values);
                }

            case TokenType.OpenCurlyBracket:
                {
                    var entries = new List<(Node, Node)>();
                    while (!Is(TokenType.CloseCurlyBracket))
                    {
                        if (_current >= _tokens.Count)
                        {
                            throw Error("Unexpected end of template: expected '}'");
                        }

                        var key = ParseExpression();
                        Expect(TokenType.Colon, "Expected ':' between key and value in object literal");
                        entries.Add((key, ParseExpression()));
                        if (Is(TokenType.Comma))
                        {
                            _current++;
                        }
                    }

                    _current++;
                    return new ObjectLiteral(token.Pos, entries);
                }

            default:
                _current--;
                throw Error($"Unexpected {Describe(token)}");
        }
    }
}
