"""Parsing ``${...}`` text: literals, the documented order of operations, syntax errors and their columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepdance.gcw.expr import ExprSyntaxError, limits, parse
from stepdance.gcw.expr.nodes import (
    Attribute,
    Binary,
    Call,
    Index,
    ListLiteral,
    Literal,
    Logical,
    MapLiteral,
    Name,
    Unary,
)


def shape(text: str) -> str:
    """A compact, fully parenthesised rendering of the tree, to assert precedence and associativity."""
    return _render(parse(text))


def _render(node: object) -> str:
    match node:
        case Literal(value=value):
            return repr(value)
        case Name(name=name):
            return name
        case Attribute(target=target, name=name):
            return f"{_render(target)}.{name}"
        case Index(target=target, index=index):
            return f"{_render(target)}[{_render(index)}]"
        case Call(function=function, args=args):
            return f"{function}({', '.join(_render(a) for a in args)})"
        case Unary(op=op, operand=operand):
            return f"({op} {_render(operand)})"
        case Binary(op=op, left=left, right=right) | Logical(op=op, left=left, right=right):
            return f"({_render(left)} {op} {_render(right)})"
        case ListLiteral(items=items):
            return "[" + ", ".join(_render(i) for i in items) + "]"
        case MapLiteral(entries=entries):
            return "{" + ", ".join(f"{_render(k)}: {_render(v)}" for k, v in entries) + "}"
    raise AssertionError(node)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("4.5", 4.5),
        ("1e3", 1000.0),
        ("1.5E-3", 0.0015),
        ('"hello"', "hello"),
        ("'single quoted'", "single quoted"),  # the error docs write ${'SystemError' in e.tags}
        ('"tab\\tnew\\nline \\"q\\" \\\\ \\/"', 'tab\tnew\nline "q" \\ /'),
        ('"\\u00e9\\ud83d\\ude00"', "é😀"),
        ("'it\\'s'", "it's"),
        ("null", None),
    ],
)
def test_literals(text: str, value: object) -> None:
    tree = parse(text)
    assert isinstance(tree, Literal)
    assert tree.value == value
    assert type(tree.value) is type(value)


@pytest.mark.parametrize("spelling", ["true", "True", "TRUE"])
def test_true_has_the_three_documented_spellings(spelling: str) -> None:
    assert parse(spelling) == Literal(1, True)


@pytest.mark.parametrize("spelling", ["false", "False", "FALSE"])
def test_false_has_the_three_documented_spellings(spelling: str) -> None:
    assert parse(spelling) == Literal(1, False)


def test_mixed_case_booleans_and_operators_are_names_not_keywords() -> None:
    # Datatypes page: logical operators "can be lower-case or upper-case (but not mixed-case)".
    assert parse("tRuE") == Name(1, "tRuE")
    with pytest.raises(ExprSyntaxError):
        parse("a And b")


@pytest.mark.parametrize("spelling", ["and", "AND"])
def test_and_in_both_cases(spelling: str) -> None:
    assert shape(f"a {spelling} b") == "(a and b)"


def test_or_and_not_in_upper_case() -> None:
    assert shape("NOT a OR b") == "((not a) or b)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("7 // 2 % 3", "((7 // 2) % 3)"),
        ("a + b < c * d", "((a + b) < (c * d))"),
        ("a == b and c != d or e", "(((a == b) and (c != d)) or e)"),
        ("a or b and c", "(a or (b and c))"),
        ('"x" in l and y', "(('x' in l) and y)"),
        ("-a * b", "((- a) * b)"),
        ("-a.b", "(- a.b)"),
        ("- x[0]", "(- x[0])"),
        # Documented table: not binds tighter than comparison, so this is (not a) == b.
        ("not a == b", "((not a) == b)"),
        ("not a in l", "((not a) in l)"),
        ("not not a", "(not (not a))"),
        ("- - a", "(- (- a))"),
        ("a < b < c", "((a < b) < c)"),
        ("m.a.b", "m.a.b"),
        ('m["a"].b[0]', "m['a'].b[0]"),
        ("f(x)[0].y", "f(x)[0].y"),
        ('text.split(s, ",")', "text.split(s, ',')"),
        ('default(map.get(m, "k"), 0)', "default(map.get(m, 'k'), 0)"),
        ("uuid.generate()", "uuid.generate()"),
        ("[1, [2, 3], []]", "[1, [2, 3], []]"),
        ('{"a": 1, "b": {"c": [2]}}', "{'a': 1, 'b': {'c': [2]}}"),
        ("{}", "{}"),
    ],
)
def test_documented_order_of_operations(text: str, expected: str) -> None:
    assert shape(text) == expected


def test_negative_literals_fold_so_the_smallest_integer_can_be_written() -> None:
    assert parse("-9223372036854775808") == Literal(1, -(2**63))
    assert parse("-1.5") == Literal(1, -1.5)


def test_multi_line_expressions() -> None:
    # Expressions page: an expression may extend over several lines.
    assert shape('"SELECT *" +\n  " FROM t"') == "('SELECT *' + ' FROM t')"


def test_nodes_remember_their_columns() -> None:
    tree = parse("a + b.c")
    assert isinstance(tree, Binary)
    assert (tree.column, tree.left.column, tree.right.column) == (3, 1, 6)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("", 1, "empty expression"),
        ("   ", 4, "empty expression"),
        ("1 +", 4, "unexpected end"),
        ("a b", 3, "unexpected name 'b'"),
        ("(1 + 2", 7, "expected ')'"),
        ("[1, 2", 6, "expected ',' or ']'"),
        ("f(1 2)", 5, "expected ',' or ')'"),
        ('{"a": 1 "b": 2}', 9, "expected ',' or '}'"),
        ('{"a" 1}', 6, "expected ':'"),
        ("[1, 2,]", 7, "unexpected ']'"),
        ("a = b", 3, "did you mean '=='"),
        ("a ! b", 3, "unexpected character '!'"),
        ('"open', 1, "unterminated string"),
        ('"bad \\q"', 6, "invalid escape"),
        ('"\\u12"', 2, "four hex digits"),
        ('"\\ud800"', 2, "unpaired surrogate"),
        ("12abc", 1, "invalid number"),
        ("1e999", 1, "too large"),
        ("9223372036854775808", 1, "does not fit in 64 bits"),
        ("a.1", 3, "expected a name after '.'"),
        ("x[0](1)", 5, "only named functions can be called"),
        ("(a + b)(1)", 8, "only named functions can be called"),
        ("a.", 3, "expected a name"),
        ("é", 1, "unexpected character"),
        ("a ? b : c", 3, "unexpected character '?'"),
    ],
)
def test_syntax_errors_carry_a_message_and_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExprSyntaxError) as raised:
        parse(text)
    assert fragment in raised.value.message
    assert raised.value.column == column


def test_expression_length_limit() -> None:
    parse("1" + " + 1" * ((limits.MAX_EXPRESSION_LENGTH - 1) // 4))
    with pytest.raises(ExprSyntaxError, match="longer than the limit"):
        parse("1" * (limits.MAX_EXPRESSION_LENGTH + 1))


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        parse("(" * 200 + "1" + ")" * 200, max_length=10_000)
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        parse("-" * 300 + "1", max_length=10_000)
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        parse("[" * 200 + "]" * 200, max_length=10_000)


def test_long_flat_chains_are_bounded_by_tree_depth() -> None:
    parse(" + ".join(["1"] * 150), max_length=10_000)
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        parse(" + ".join(["1"] * 5_000), max_length=100_000)
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        parse("a" + ".b" * 5_000, max_length=100_000)


_ALPHABET = st.sampled_from([*"abxyz019 .,:()[]{}\"'\\+-*/%<>=!_\n", "and", "or", "not", "in", "true", "//"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_parse_raises_nothing_but_syntax_errors_on_token_soup(text: str) -> None:
    try:
        parse(text)
    except ExprSyntaxError as error:
        assert 1 <= error.column <= len(text) + 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_raises_nothing_but_syntax_errors_on_arbitrary_text(text: str) -> None:
    try:
        parse(text)
    except ExprSyntaxError as error:
        assert error.column >= 1
