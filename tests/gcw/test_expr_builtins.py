"""The expression helpers (Expression helpers reference page): conversions, data type, conditional and type
functions, and how function calls bind and fail."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.gcw.expr import Context, FunctionRef, WorkflowsError, call_function, evaluate, parse

CONTEXT = Context.fixed()


def run(text: str, scope: dict[str, Any] | None = None, context: Context = CONTEXT) -> Any:
    return evaluate(parse(text), scope or {}, context)


def tags_of(text: str, scope: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(WorkflowsError) as raised:
        run(text, scope)
    return raised.value.tags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('int("42")', 42),
        ('int("-7")', -7),
        ("int(2.9)", 2),
        ("int(-2.9)", -2),  # a cast truncates toward zero
        ("int(5)", 5),
        ('double("5")', 5.0),  # the doflow/Workflows example double("5")
        ('double("2.5e2")', 250.0),
        ("double(3)", 3.0),
        ("double(1.5)", 1.5),
        ("string(5)", "5"),  # string(5) in the expression helpers examples
        ("string(2.5)", "2.5"),
        ("string(true)", "true"),
        ("string(false)", "false"),
        ('string("s")', "s"),
        ("string(1635892223.4459958)", "1635892223.4459958"),  # the overview's sys.now() example
    ],
)
def test_conversion_functions(text: str, expected: object) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ('int("4.2")', "ValueError"),
        ('int("")', "ValueError"),
        ('int(" 1")', "ValueError"),
        ('int("99999999999999999999")', "ValueError"),
        ("int(1e300)", "ValueError"),
        ("int(true)", "TypeError"),
        ("int(null)", "TypeError"),
        ('double("abc")', "ValueError"),
        ('double("nan")', "ValueError"),
        ('double("1e999")', "ValueError"),
        ("double([])", "TypeError"),
        ("string(null)", "TypeError"),
        ("string([1])", "TypeError"),
        ("string({})", "TypeError"),
    ],
)
def test_conversion_failures(text: str, tag: str) -> None:
    assert tags_of(text)[0] == tag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('len("Foo")', 3),
        ('len("héllo")', 5),  # characters, not bytes
        ("len([1, 2, 3])", 3),
        ('len({"a": 1})', 1),
        ('len("")', 0),
        ('keys({"Foo": "Bar"})', ["Foo"]),
        ('keys({"b": 1, "a": 2})', ["b", "a"]),  # insertion order
    ],
)
def test_data_type_functions(text: str, expected: object) -> None:
    assert run(text) == expected


@pytest.mark.parametrize("text", ["len(1)", "len(null)", "len(true)", "keys([1])", 'keys("s")'])
def test_data_type_function_type_errors(text: str) -> None:
    assert tags_of(text) == ["TypeError"]


def test_default_returns_the_value_unless_it_is_null() -> None:
    assert run('default("Foo", "Bar")') == "Foo"
    assert run('default(null, "Bar")') == "Bar"
    assert run("default(false, true)") is False
    assert run("default(0, 1)") == 0
    # Documented pairing: map.get with default to read an optional key.
    assert run('default(map.get(m, "missing"), "fallback")', {"m": {}}) == "fallback"


def test_if_chooses_on_a_boolean_or_null() -> None:
    assert run('if(5 > 3, "Foo", "Bar")') == "Foo"
    assert run('if(false, "Foo", "Bar")') == "Bar"
    assert run('if(null, "Foo", "Bar")') == "Bar"  # "false or null: ifFalse is returned"
    assert tags_of('if(1, "a", "b")') == ["TypeError"]


def test_if_is_a_function_so_both_branches_are_evaluated() -> None:
    assert tags_of("if(true, 1, m.missing)", {"m": {}}) == ["KeyError", "LookupError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("get_type(1)", "integer"),
        ("get_type(1.5)", "double"),
        ('get_type("a")', "string"),
        ("get_type(true)", "boolean"),
        ("get_type(null)", "null"),
        ("get_type([])", "list"),
        ("get_type({})", "map"),
        ('get_type(text.encode("a"))', "bytes"),
        ("get_type(http.default_retry_predicate)", "function"),
    ],
)
def test_get_type(text: str, expected: str) -> None:
    assert run(text) == expected


def test_wrong_argument_counts_are_type_errors() -> None:
    assert tags_of("len()") == ["TypeError"]
    assert tags_of("len(1, 2)") == ["TypeError"]
    assert tags_of('text.split("a")') == ["TypeError"]


def test_unknown_functions() -> None:
    assert tags_of("nope(1)") == ["KeyError", "LookupError"]
    assert tags_of("text.nope(1)") == ["KeyError", "LookupError"]


@pytest.mark.parametrize("name", ["sys.log", "sys.sleep", "http.get", "http.post", "events.await_callback"])
def test_blocking_calls_are_refused_in_expressions(name: str) -> None:
    # Expressions page: blocking calls such as HTTP calls, sys.sleep and sys.log cannot be used in expressions.
    with pytest.raises(WorkflowsError) as raised:
        run(f'{name}("x")')
    assert raised.value.tags == ["TypeError"]
    assert "blocking" in raised.value.message


def test_named_arguments_for_call_steps() -> None:
    assert call_function("text.split", [], CONTEXT, {"source": "a-b", "separator": "-"}) == ["a", "b"]
    assert call_function("text.split", ["a-b"], CONTEXT, {"separator": "-"}) == ["a", "b"]
    assert call_function("sys.get_env", [], CONTEXT, {"name": "X", "default": "d"}) == "d"
    with pytest.raises(WorkflowsError, match="unexpected argument 'sep'"):
        call_function("text.split", ["a"], CONTEXT, {"sep": "-"})
    with pytest.raises(WorkflowsError, match="missing required argument 'separator'"):
        call_function("text.split", ["a"], CONTEXT, {})


def test_context_functions_are_callable_like_subworkflows() -> None:
    context = Context.fixed(functions={"double_it": lambda args: args[0] * 2})
    assert run("double_it(21) + 1", context=context) == 43
    assert run("double_it", context=context) == FunctionRef("double_it")


def test_function_names_used_as_values_are_function_refs() -> None:
    # Retry docs: predicate: ${http.default_retry_predicate}
    assert run("http.default_retry_predicate") == FunctionRef("http.default_retry_predicate")
    assert run("len") == FunctionRef("len")
    assert tags_of("http.default_retry_predicate + 1") == ["TypeError"]
