"""The ``json`` and ``base64`` modules, with the examples from their reference pages."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.gcw.expr import Context, WorkflowsError, evaluate, parse

CONTEXT = Context.fixed()


def run(text: str, scope: dict[str, Any] | None = None) -> Any:
    return evaluate(parse(text), scope or {}, CONTEXT)


def tags_of(text: str, scope: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(WorkflowsError) as raised:
        run(text, scope)
    return raised.value.tags


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"a": 1, "b": [true, null, 2.5, "x"]}', {"a": 1, "b": [True, None, 2.5, "x"]}),
        ("3", 3),
        ("1.0", 1.0),
        ("1e2", 100.0),
        ('"s"', "s"),
        ("[]", []),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", 9.223372036854776e18),  # beyond 64 bits: a double
    ],
)
def test_decode_string_and_bytes(data: str, expected: object) -> None:
    for scope in ({"d": data}, {"d": data.encode()}):
        result = run("json.decode(d)", scope)
        assert result == expected
        assert type(result) is type(expected)


def test_decode_keeps_key_order() -> None:
    assert list(run("json.decode(d)", {"d": '{"z": 1, "a": 2}'})) == ["z", "a"]


@pytest.mark.parametrize("data", ["{", "[1,]", "NaN", "Infinity", "1e999", "'x'", ""])
def test_decode_invalid_json_is_a_value_error(data: str) -> None:
    assert tags_of("json.decode(d)", {"d": data}) == ["ValueError"]


def test_decode_errors() -> None:
    assert tags_of("json.decode(d)", {"d": b"\xff"}) == ["ValueError"]
    assert tags_of("json.decode(1)") == ["TypeError"]
    assert tags_of("json.decode(d)", {"d": "1" * 5000}) == ["ValueError"]  # too large even for a double
    assert run("json.decode(d)", {"d": "1" + "0" * 29}) == 1e29


def test_decode_refuses_deep_nesting_without_recursing() -> None:
    assert tags_of("json.decode(d)", {"d": "[" * 100_000 + "]" * 100_000}) == ["ResourceLimitError"]
    assert run("json.decode(d)", {"d": '"[[[[["'}) == "[[[[["  # brackets inside strings do not count


def test_decode_the_documented_pubsub_example() -> None:
    # json.decode reference: ${json.decode(base64.decode(m.receivedMessages[0].message.data))}
    message = {"receivedMessages": [{"message": {"data": "eyJvayI6IHRydWV9"}}]}
    assert run("json.decode(base64.decode(m.receivedMessages[0].message.data))", {"m": message}) == {
        "ok": True
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('json.encode_to_string({"key1": "hello"})', '{"key1":"hello"}'),  # the reference's sys.log example
        ("json.encode_to_string([1, 2.5, null, true, false])", "[1,2.5,null,true,false]"),
        ('json.encode_to_string("é\\n")', '"é\\n"'),
        ("json.encode_to_string(1.0)", "1.0"),
        ("json.encode_to_string({})", "{}"),
        ('json.encode_to_string({"b": 1, "a": 2})', '{"b":1,"a":2}'),
    ],
)
def test_encode_to_string(text: str, expected: str) -> None:
    assert run(text) == expected


def test_encode_gives_utf8_bytes() -> None:
    assert run('json.encode({"k": "é"})') == '{"k":"é"}'.encode()


def test_indentation_as_documented() -> None:
    data = {"data": {"a": [1, {}], "b": {"c": True}}}
    # indent: true is four spaces and no prefix.
    assert run("json.encode_to_string(data, true)", data) == (
        '{\n    "a": [\n        1,\n        {}\n    ],\n    "b": {\n        "c": true\n    }\n}'
    )
    assert run("json.encode_to_string(data, false)", data) == '{"a":[1,{}],"b":{"c":true}}'
    # Each element begins on a new line with prefix, then one indent per level; the first line has no prefix.
    indented = run('json.encode_to_string([1, [2]], {"prefix": "> ", "indent": "\\t"})')
    assert indented == "[\n> \t1,\n> \t[\n> \t\t2\n> \t]\n> ]"
    assert run("json.encode_to_string([1], {})") == "[\n    1\n]"  # {} is the same as true


def test_encode_errors() -> None:
    assert tags_of('json.encode(text.encode("x"))') == ["ValueError"]  # bytes cannot be JSON-encoded
    assert tags_of('json.encode_to_string([1], "  ")') == ["TypeError"]
    assert tags_of('json.encode_to_string([1], {"indent": 2})') == ["TypeError"]
    assert tags_of('json.encode_to_string([1], {"spaces": "  "})') == ["ValueError"]


def test_encode_output_is_bounded_even_when_indentation_multiplies_it() -> None:
    scope = {"pad": "x" * 10_000, "data": [[[[1]]]] * 50}
    assert tags_of('json.encode_to_string(data, {"indent": pad})', scope) == ["ResourceLimitError"]


def test_encode_refuses_values_nested_too_deeply() -> None:
    deep: list[Any] = []
    for _ in range(1000):
        deep = [deep]
    assert tags_of("json.encode_to_string(d)", {"d": deep}) == ["ResourceLimitError"]


def test_json_round_trip() -> None:
    value = {"a": [1, 2.5, "x", None, {"b": False}]}
    assert run("json.decode(json.encode(v))", {"v": value}) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('base64.encode(text.encode("hello"))', "aGVsbG8="),
        ('base64.encode(text.encode("hello"), false)', "aGVsbG8"),
        ('base64.encode(text.encode(""))', ""),
        ('text.decode(base64.decode("aGVsbG8="))', "hello"),
        ('text.decode(base64.decode("aGVsbG8", false))', "hello"),
    ],
)
def test_base64(text: str, expected: str) -> None:
    assert run(text) == expected


@pytest.mark.parametrize("data", ["aGVsbG8", "!!!!", "aGVsbG8=\n", "é"])
def test_base64_decode_rejects_invalid_text(data: str) -> None:
    assert tags_of("base64.decode(d)", {"d": data}) == ["ValueError"]


def test_base64_type_errors() -> None:
    assert tags_of('base64.encode("not bytes")') == ["TypeError"]
    assert tags_of("base64.decode(1)") == ["TypeError"]
    assert tags_of('base64.decode("aGk=", "yes")') == ["TypeError"]
    assert tags_of('base64.decode("aGk=", false)') == ["ValueError"]  # padding present but not expected
