"""Operators and their type rules, from "Data types, functions, operators" (implicit conversion table, order
of operations, logical operators on booleans only), and the error map each failure carries."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepdance.gcw.expr import Context, WorkflowsError, evaluate, parse

CONTEXT = Context.fixed()
SCOPE: dict[str, Any] = {
    "i": 7,
    "d": 2.5,
    "s": "str",
    "b": True,
    "n": None,
    "l": [1, "two", [3]],
    "m": {"a": {"b": 1}, "key with space": 2, "nul": None},
    "raw": b"\x00\x01",
}


def run(text: str, scope: dict[str, Any] | None = None) -> Any:
    return evaluate(parse(text), SCOPE if scope is None else scope, CONTEXT)


def error_of(text: str, scope: dict[str, Any] | None = None) -> WorkflowsError:
    with pytest.raises(WorkflowsError) as raised:
        run(text, scope)
    return raised.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", 3),
        ("1 + 2.5", 3.5),
        ("2.5 + 1", 3.5),
        ("10 - 3", 7),
        ("10 - 0.5", 9.5),
        ("6 * 7", 42),
        ("6 * 0.5", 3.0),
        ("10 / 4", 2.5),
        ("4 / 2", 2.0),  # "/: float division": a double even when it divides evenly
        ("7 // 2", 3),
        ("-7 // 2", -4),  # floor, not truncation
        ("7.5 // 2", 3.0),
        ("7 % 3", 1),
        ("-7 % 3", 2),  # the remainder takes the divisor's sign, so (a // b) * b + a % b == a
        ("7 % -3", -2),
        ("7.5 % 2", 1.5),
        ("-i", -7),
        ("-d", -2.5),
        ("2 * (3 + 4)", 14),
    ],
)
def test_arithmetic(text: str, expected: object) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"Hello, " + "World"', "Hello, World"),  # Strings page: concatenate using the + operator
        ('"n=" + 1', "n=1"),  # the + table: STRING with INTEGER gives STRING
        ('1 + "x"', "1x"),
        ('"d=" + 2.5', "d=2.5"),
        ('2.5 + "x"', "2.5x"),
        ('"b=" + true', "b=true"),  # STRING with BOOL gives STRING
        ('false + "x"', "falsex"),
    ],
)
def test_plus_concatenates_strings_as_the_documented_table_says(text: str, expected: str) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1 + true",
        "true + 1",
        "2.5 + false",
        "true + true",
        "1 + null",
        '"a" + null',
        '"a" + l',
        "l + l",
        "m + m",
    ],
)
def test_plus_is_a_type_error_where_the_table_says_error(text: str) -> None:
    error = error_of(text)
    assert error.tags == ["TypeError"]
    assert "unsupported operand types for +" in error.message


@pytest.mark.parametrize(
    "text", ['"a" - 1', '"a" * 2', "true * 2", "null / 1", "l // 1", '5 % "2"', "raw - raw"]
)
def test_other_arithmetic_takes_numbers_only(text: str) -> None:
    assert error_of(text).tags == ["TypeError"]


@pytest.mark.parametrize("text", ['-"a"', "-true", "-null", "-l"])
def test_unary_minus_takes_numbers_only(text: str) -> None:
    assert error_of(text).tags == ["TypeError"]


@pytest.mark.parametrize("text", ["1 / 0", "1 / 0.0", "1 // 0", "1 % 0", "1.5 % 0", "1.5 // 0.0"])
def test_division_by_zero(text: str) -> None:
    error = error_of(text)
    assert error.tags == ["ZeroDivisionError", "ArithmeticError"]
    assert error.error == {"message": error.message, "tags": ["ZeroDivisionError", "ArithmeticError"]}


@pytest.mark.parametrize(
    "text",
    [
        "9223372036854775807 + 1",
        "-9223372036854775808 - 1",
        "4611686018427387904 * 2",
        "-9223372036854775808 // -1",
        "-(-9223372036854775808)",
    ],
)
def test_integers_are_64_bit_and_overflow_is_an_error(text: str) -> None:
    error = error_of(text)
    assert error.tags == ["ValueError"]
    assert "overflow" in error.message


def test_double_overflow_is_an_error() -> None:
    assert error_of("1e308 * 10").tags == ["ValueError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 == 1", True),
        ("1 == 1.0", True),
        ("1 != 2", True),
        ('"a" == "a"', True),
        ('1 == "1"', False),  # different types are unequal, not an error
        ("true == 1", False),  # a boolean is not a number
        ("null == null", True),
        ("n == null", True),
        ("0 == null", False),
        ("[1, [2]] == [1, [2.0]]", True),
        ('{"a": 1, "b": 2} == {"b": 2, "a": 1}', True),
        ('{"a": 1} == {"a": 2}', False),
        ("[1, 2] != [2, 1]", True),
        ("1 < 2", True),
        ("2.5 <= 2", False),
        ("3 > 2.5", True),
        ("2 >= 2", True),
        ('"abc" < "abd"', True),
        ('"b" > "abc"', True),
        ('"Z" < "a"', True),  # code point order
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert run(text) is expected


@pytest.mark.parametrize("text", ['1 < "2"', "true < false", "null < 1", "l < l", "m >= m", "1 < 2 < 3"])
def test_ordering_different_or_unordered_types_is_a_type_error(text: str) -> None:
    error = error_of(text)
    assert error.tags == ["TypeError"]
    assert "not supported between" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"two" in l', True),
        ("1.0 in l", True),
        ("[3] in l", True),
        ('"three" in l', False),
        ('"a" in m', True),  # Maps page: check existence of a key in a map
        ('"b" in m', False),
        ("1 in m", False),
        ('not ("b" in m)', True),
    ],
)
def test_membership_in_lists_and_maps(text: str, expected: bool) -> None:
    assert run(text) is expected


@pytest.mark.parametrize("text", ['"s" in s', "1 in 1", "1 in null"])
def test_membership_needs_a_list_or_map(text: str) -> None:
    assert error_of(text).tags == ["TypeError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true and true", True),
        ("true and false", False),
        ("false or true", True),
        ("false or false", False),
        ("not false", True),
        ("not b", False),
        ("1 < 2 and 2 < 3", True),
    ],
)
def test_logical_operators(text: str, expected: bool) -> None:
    assert run(text) is expected


def test_and_or_short_circuit() -> None:
    # The right side would fail (KeyError) if it were evaluated.
    assert run("false and m.missing") is False
    assert run("true or m.missing") is True
    assert error_of("true and m.missing").tags == ["KeyError", "LookupError"]


@pytest.mark.parametrize(
    "text", ["1 and true", "true and 1", '"x" or true', "false or null", "not 1", "not null"]
)
def test_logical_operators_take_booleans_only(text: str) -> None:
    # Datatypes page: "Logical operators can be used only on boolean values".
    assert error_of(text).tags == ["TypeError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l[0]", 1),
        ("l[2][0]", 3),
        ("m.a.b", 1),
        ('m["a"]["b"]', 1),
        ('m["key with space"]', 2),
        ("m.nul", None),
        ('{"x": [10, 20]}.x[1]', 20),
        ("[1, 2, 3][1 + 1]", 3),
    ],
)
def test_indexing_and_attributes(text: str, expected: object) -> None:
    assert run(text) == expected


@pytest.mark.parametrize("text", ["m.missing", 'm["missing"]', "m.a.c", '{"a": 1}.b'])
def test_a_missing_key_is_a_key_error(text: str) -> None:
    error = error_of(text)
    assert error.tags == ["KeyError", "LookupError"]
    assert error.message.startswith("key not found")


@pytest.mark.parametrize("text", ["l[3]", "l[-1]", "[][0]"])
def test_an_index_out_of_range_is_an_index_error(text: str) -> None:
    assert error_of(text).tags == ["IndexError", "LookupError"]


@pytest.mark.parametrize("text", ["l[true]", "l[0.0]", 'l["0"]', "m[1]", "s[0]", "i.x", "n.x", "n[0]", "l.x"])
def test_indexing_the_wrong_type_is_a_type_error(text: str) -> None:
    assert error_of(text).tags == ["TypeError"]


def test_undefined_variable_is_a_key_error() -> None:
    error = error_of("undefined_var + 1")
    assert error.tags == ["KeyError", "LookupError"]
    assert "undefined_var" in error.message


def test_variables_shadow_library_names() -> None:
    assert run("text.x", {"text": {"x": 5}}) == 5
    assert run("http.default_retry", {"http": {"default_retry": "mine"}}) == "mine"


def test_map_literal_keys_must_be_strings() -> None:
    assert run('{"a" + "b": 1}') == {"ab": 1}
    assert error_of("{1: 2}").tags == ["TypeError"]


def test_evaluation_returns_fresh_containers_for_literals() -> None:
    expr = parse("[1, {}]")
    first, second = evaluate(expr, {}, CONTEXT), evaluate(expr, {}, CONTEXT)
    assert first == second
    assert first is not second


def test_error_maps_are_what_except_sees() -> None:
    error = error_of("m.zzz")
    assert error.error == {"message": "key not found: zzz", "tags": ["KeyError", "LookupError"]}
    assert isinstance(error.error["tags"], list)
    assert str(error) == "key not found: zzz"


_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_SMALL = st.integers(min_value=-(10**6), max_value=10**6)


def _python(op: str, a: int, b: int) -> int | None:
    """Python's integer arithmetic, or None where Workflows must fail (zero division, outside 64 bits)."""
    if op in ("//", "%") and b == 0:
        return None
    result = {"+": a + b, "-": a - b, "*": a * b, "//": a // b if b else 0, "%": a % b if b else 0}[op]
    return result if -(2**63) <= result <= 2**63 - 1 else None


@settings(max_examples=300, deadline=None)
@given(a=_INT64, b=_INT64, op=st.sampled_from(["+", "-", "*", "//", "%"]))
def test_integer_arithmetic_matches_python_where_defined(a: int, b: int, op: str) -> None:
    expected = _python(op, a, b)
    scope = {"a": a, "b": b}
    if expected is None:
        with pytest.raises(WorkflowsError) as raised:
            run(f"a {op} b", scope)
        assert raised.value.tags[0] in ("ValueError", "ZeroDivisionError")
    else:
        result = run(f"a {op} b", scope)
        assert result == expected
        assert type(result) is int


@settings(max_examples=200, deadline=None)
@given(a=_SMALL, b=_SMALL, c=_SMALL)
def test_literal_arithmetic_follows_precedence_like_python(a: int, b: int, c: int) -> None:
    text = f"{a} + {b} * {c} - ({a} - {c}) * {b}"
    assert run(text, {}) == a + b * c - (a - c) * b


@settings(max_examples=200, deadline=None)
@given(a=_SMALL, b=_SMALL.filter(lambda v: v != 0))
def test_floor_division_and_remainder_agree(a: int, b: int) -> None:
    scope = {"a": a, "b": b}
    assert run("(a // b) * b + a % b", scope) == a
    assert run("a / b", scope) == pytest.approx(a / b)
