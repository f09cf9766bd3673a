"""Parsing the text inside ``${...}`` into a tree, with the documented order of operations.

From most to least binding (Data types, functions, operators > Order of operations)::

    ()   .   []   not   unary -   * / // %   + -   < <= >= > == != in   and   or

Binary operators associate to the left and comparisons do not chain (``a < b < c`` is ``(a < b) < c``).
Because ``not`` binds tighter than the comparisons, ``not a == b`` means ``(not a) == b``, as the table says.
Only named functions can be called (``text.split(s, ",")``, ``default(x, 0)``, a subworkflow's name).
"""

from __future__ import annotations

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.errors import ExprSyntaxError
from stepdance.gcw.expr.lexer import Token, tokenize
from stepdance.gcw.expr.nodes import (
    Attribute,
    Binary,
    Call,
    Expr,
    Index,
    ListLiteral,
    Literal,
    Logical,
    MapLiteral,
    Name,
    Unary,
    dotted_name,
)

_COMPARISON = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})
_ADDITIVE = frozenset({"+", "-"})
_MULTIPLICATIVE = frozenset({"*", "/", "//", "%"})


def parse(text: str, *, max_length: int = limits.MAX_EXPRESSION_LENGTH) -> Expr:
    """Parse an expression (the text between ``${`` and ``}``); raise ExprSyntaxError with a column."""
    if len(text) > max_length:
        raise ExprSyntaxError(
            f"expression is longer than the limit of {max_length} characters", max_length + 1
        )
    tree = _Parser(tokenize(text)).parse()
    _check_tree(tree)
    return tree


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._pos = 0
        self._nesting = 0

    def parse(self) -> Expr:
        if self._peek().kind == "end":
            raise ExprSyntaxError("empty expression", self._peek().column)
        expr = self._expression()
        token = self._peek()
        if token.kind != "end":
            raise ExprSyntaxError(f"unexpected {_describe(token)}", token.column)
        return expr

    def _expression(self) -> Expr:
        self._enter()
        try:
            return self._or()
        finally:
            self._nesting -= 1

    def _enter(self) -> None:
        self._nesting += 1
        if self._nesting > limits.MAX_PARSE_NESTING:
            raise ExprSyntaxError("expression is nested too deeply", self._peek().column)

    def _or(self) -> Expr:
        left = self._and()
        while (token := self._accept_op("or")) is not None:
            left = Logical(token.column, "or", left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._comparison()
        while (token := self._accept_op("and")) is not None:
            left = Logical(token.column, "and", left, self._comparison())
        return left

    def _comparison(self) -> Expr:
        left = self._additive()
        while (token := self._accept_op(*_COMPARISON)) is not None:
            left = Binary(token.column, token.value, left, self._additive())
        return left

    def _additive(self) -> Expr:
        left = self._multiplicative()
        while (token := self._accept_op(*_ADDITIVE)) is not None:
            left = Binary(token.column, token.value, left, self._multiplicative())
        return left

    def _multiplicative(self) -> Expr:
        left = self._unary()
        while (token := self._accept_op(*_MULTIPLICATIVE)) is not None:
            left = Binary(token.column, token.value, left, self._unary())
        return left

    def _unary(self) -> Expr:
        token = self._accept_op("-", "not")
        if token is None:
            return self._postfix()
        number_follows = self._peek().kind == "number"
        self._enter()
        try:
            operand = self._unary()
        finally:
            self._nesting -= 1
        if token.value == "-" and number_follows and isinstance(operand, Literal):
            # Folding "-" into the number after it lets -9223372036854775808 be written as a literal.
            return Literal(token.column, -operand.value)
        return Unary(token.column, token.value, operand)

    def _postfix(self) -> Expr:
        expr = self._primary()
        while True:
            if (token := self._accept_op(".")) is not None:
                name = self._expect("name", "a name after '.'")
                expr = Attribute(token.column, expr, name.value)
            elif (token := self._accept_op("[")) is not None:
                index = self._expression()
                self._expect_op("]")
                expr = Index(token.column, expr, index)
            elif (token := self._accept_op("(")) is not None:
                function = dotted_name(expr)
                if function is None:
                    raise ExprSyntaxError("only named functions can be called", token.column)
                expr = Call(expr.column, function, self._sequence(")"))
            else:
                return expr

    def _primary(self) -> Expr:
        token = self._advance()
        if token.kind in ("number", "string", "keyword"):
            return Literal(token.column, token.value)
        if token.kind == "name":
            return Name(token.column, token.value)
        if token.kind == "op" and token.value == "(":
            expr = self._expression()
            self._expect_op(")")
            return expr
        if token.kind == "op" and token.value == "[":
            return ListLiteral(token.column, self._sequence("]"))
        if token.kind == "op" and token.value == "{":
            return MapLiteral(token.column, self._entries())
        raise ExprSyntaxError(f"unexpected {_describe(token)}", token.column)

    def _sequence(self, closer: str) -> tuple[Expr, ...]:
        items: list[Expr] = []
        if self._accept_op(closer) is not None:
            return ()
        while True:
            items.append(self._expression())
            if self._accept_op(closer) is not None:
                return tuple(items)
            self._expect_separator(closer)

    def _entries(self) -> tuple[tuple[Expr, Expr], ...]:
        entries: list[tuple[Expr, Expr]] = []
        if self._accept_op("}") is not None:
            return ()
        while True:
            key = self._expression()
            self._expect_op(":")
            entries.append((key, self._expression()))
            if self._accept_op("}") is not None:
                return tuple(entries)
            self._expect_separator("}")

    def _peek(self) -> Token:
        return self._tokens[self._pos]

    def _advance(self) -> Token:
        token = self._tokens[self._pos]
        if token.kind != "end":
            self._pos += 1
        return token

    def _accept_op(self, *ops: str) -> Token | None:
        token = self._peek()
        if token.kind == "op" and token.value in ops:
            self._pos += 1
            return token
        return None

    def _expect_op(self, op: str) -> Token:
        token = self._accept_op(op)
        if token is None:
            found = self._peek()
            raise ExprSyntaxError(f"expected '{op}' but found {_describe(found)}", found.column)
        return token

    def _expect_separator(self, closer: str) -> None:
        if self._accept_op(",") is None:
            found = self._peek()
            raise ExprSyntaxError(f"expected ',' or '{closer}' but found {_describe(found)}", found.column)

    def _expect(self, kind: str, what: str) -> Token:
        token = self._peek()
        if token.kind != kind:
            raise ExprSyntaxError(f"expected {what} but found {_describe(token)}", token.column)
        return self._advance()


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "op":
        return f"'{token.value}'"
    return f"{token.kind} {token.value!r}"


def _check_tree(tree: Expr) -> None:
    """Integer literals must fit in 64 bits, and the tree must be shallow enough to evaluate recursively."""
    stack: list[tuple[Expr, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.MAX_TREE_DEPTH:
            raise ExprSyntaxError("expression is nested too deeply", node.column)
        literal = node.value if isinstance(node, Literal) else None
        if (
            _is_number(literal)
            and isinstance(literal, int)
            and not limits.INT_MIN <= literal <= limits.INT_MAX
        ):
            raise ExprSyntaxError("integer literal does not fit in 64 bits", node.column)
        stack.extend((child, depth + 1) for child in node.children())
