"""The 18 intrinsic functions: AWS's results, argument rules and error wording."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepdance.asl.errors import StatesError
from stepdance.asl.intrinsics import IntrinsicSyntaxError, evaluate_intrinsic, is_intrinsic, parse_intrinsic
from stepdance.asl.scope import Scope

INPUT: dict[str, Any] = {
    "arr": [1, 2, 3, 4, 5, 6, 7, 8, 9],
    "obj": {"Arg1": 1, "Arg2": []},
    "text": "a,b,,c",
    "nul": None,
    "tpl": "n={}",
}
CONTEXT = {
    "Execution": {"Name": "exec-1", "Input": {"start": 2}},
    "StateMachine": {"Id": "arn:sm", "Name": "sm-a-b"},
}


def scope(seed: int = 0) -> Scope:
    return Scope(
        context=CONTEXT, variables={"v": {"list": ["x", "y"]}, "word": "hi"}, random=random.Random(seed)
    )


def ev(expression: str, value: Any = INPUT, seed: int = 0) -> Any:
    return evaluate_intrinsic(expression, value, scope(seed))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.Array()", []),
        (
            "States.Array(1, 'two', null, true, $.obj, $v.list)",
            [1, "two", None, True, {"Arg1": 1, "Arg2": []}, ["x", "y"]],
        ),
        ("States.Array( $.arr[0] , -1.5e2 )", [1, -150.0]),
        ("States.ArrayPartition($.arr, 4)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayPartition($.arr, 2.9)", [[1, 2], [3, 4], [5, 6], [7, 8], [9]]),
        ("States.ArrayPartition(States.Array(), 3)", []),
        ("States.ArrayContains($.arr, 5)", True),
        ("States.ArrayContains(States.Array(1, $.obj), $.obj)", True),
        ("States.ArrayContains(States.Array(1), 1.0)", False),
        ("States.ArrayContains(States.Array(1), true)", False),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayRange(3, 3, -1)", [3]),
        ("States.ArrayRange(5, 1, 1)", []),
        ("States.ArrayRange(1.6, 1.4, 1)", [1]),
        ("States.ArrayRange(5.4, -0.6, -2.4)", [5, 3, 1]),
        ("States.ArrayGetItem($.arr, 5)", 6),
        ("States.ArrayGetItem($.arr, 1.2)", 2),
        ("States.ArrayGetItem(States.Array(), 999)", None),
        ("States.ArrayLength($.arr)", 9),
        (
            "States.ArrayUnique(States.Array(1, 2, 2, 1.0, true, null, null, $.obj, $.obj))",
            [1, 2, 1.0, True, None, {"Arg1": 1, "Arg2": []}],
        ),
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Encode('✓')", "4pyT"),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Base64Decode(' YWJjZA== ')", "abcd"),
        ("States.Base64Decode('abc')", "i\ufffd"),  # a lone byte decodes as U+FFFD, as in Java
        ("States.Hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("States.Hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "States.Hash('hello', 'SHA-512')",
            "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043",
        ),
        (
            "States.Hash(States.Format('{}:{}', 'x', 'y'), 'SHA-256')",
            "1274e286686b54fe765ec40735665b4bf789cee2a5b22124c5e0491a88e15271",
        ),
        (
            'States.JsonMerge($.obj, States.StringToJson(\'{"Arg2": 2, "c": 3}\'), false)',
            {"Arg1": 1, "Arg2": 2, "c": 3},
        ),
        ("States.JsonToString($.obj)", '{"Arg1":1,"Arg2":[]}'),
        ("States.JsonToString(States.Array(1.5, 1e20, 'é', null))", '[1.5,1.0E20,"é",null]'),
        ("States.StringToJson('')", None),
        ("States.StringToJson('-0')", 0),
        ("States.StringToJson('[1, 2, \"x\"]')", [1, 2, "x"]),
        ("States.MathAdd(111, -1)", 110),
        ("States.MathAdd(1.5, 0)", 2),
        ("States.MathAdd(-1.5, 0)", -1),
        ("States.MathAdd(-2.5, 0)", -2),
        ("States.MathAdd(-1.51, 0)", -2),
        ("States.MathAdd(0.49999999999999994, 0)", 0),
        ("States.StringSplit($.text, ',')", ["a", "b", "c"]),
        ("States.StringSplit('This.is+a,test=string', '.+,=')", ["This", "is", "a", "test", "string"]),
        ("States.StringSplit(',,,,', ',')", []),
        ("States.StringSplit('abc', '')", ["abc"]),
        ("States.Format('Hello {}, {}!', $word, 2020)", "Hello hi, 2020!"),
        ("States.Format('{} {} {} {}', $.nul, 1.1, true, $.obj)", "null 1.1 true {Arg1=1, Arg2=[]}"),
        ("States.Format('escaped \\{\\} \\' \\\\ {}', 1)", "escaped {} ' \\ 1"),
        ("States.Format('Name: \\'{}\\', Surname: \"{}\"', 'G', 'M')", "Name: 'G', Surname: \"M\""),
        ("States.Format($.tpl, 1)", "n=1"),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format('{}', States.Array(1, 'a'))", "[1, a]"),
        ("States.Format('{}', 1e21)", "1.0E21"),
        ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 2)", "b"),
        ("States.ArrayRange($$.Execution.Input.start, 6, 2)", [2, 4, 6]),
    ],
)
def test_results(expression: str, expected: Any) -> None:
    result = ev(expression)
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)  # also the types: 1 vs 1.0 vs true


@pytest.mark.parametrize(
    "expression",
    [
        "States.ArrayPartition('not-array', 2)",
        "States.ArrayPartition($.arr, 0.49)",
        "States.ArrayPartition($.arr, -1)",
        "States.ArrayPartition($.arr, null)",
        "States.ArrayPartition($.arr, '2')",
        "States.ArrayRange('a', 5, 1)",
        "States.ArrayRange(1, 10, 0)",
        "States.ArrayRange(1, 10, 0.49)",
        "States.ArrayRange(1, 1001, 1)",
        "States.ArrayRange(1001, 1, -1)",
        "States.ArrayRange(1, 5)",
        "States.ArrayGetItem($.arr, 9)",
        "States.ArrayGetItem($.arr, -1)",
        "States.ArrayGetItem($.arr, '1')",
        "States.ArrayGetItem('x', 0)",
        "States.ArrayLength($.obj)",
        "States.Base64Decode(123)",
        "States.Base64Encode($.obj)",
        "States.Hash('data', 'sha-256')",
        "States.Hash('data', 'SHA256')",
        "States.Hash('hello', 123)",
        "States.Hash('hello')",
        "States.JsonMerge($.obj, $.obj, true)",
        "States.JsonMerge($.obj, $.arr, false)",
        "States.MathAdd('1', 2)",
        "States.MathAdd(true, 2)",
        "States.MathRandom(1, 1)",
        "States.MathRandom(10, 5)",
        "States.MathRandom(1.4, 1.6)",
        "States.MathRandom(1, 10, null)",
        "States.MathRandom(1, 10, 'seed')",
        "States.StringSplit($.arr, ',')",
        "States.StringToJson('{not json')",
        "States.StringToJson($.obj)",
        "States.UUID(1)",
    ],
)
def test_invalid_arguments(expression: str) -> None:
    with pytest.raises(StatesError) as failure:
        ev(expression)
    name = expression.split("(", 1)[0]
    assert failure.value.error == "States.Runtime"
    assert failure.value.cause == (
        f"There was an error while evaluating the intrinsic function: {expression}. Invalid arguments in {name}"
    )


@pytest.mark.parametrize(
    ("expression", "cause"),
    [
        (
            "States.Format('{} {}', 1)",
            "Invalid arguments in States.Format: number of arguments do not match the occurrences of {}.",
        ),
        (
            "States.Format('{}', 1, 2)",
            "Invalid arguments in States.Format: number of arguments do not match the occurrences of {}.",
        ),
        ("States.Format('Hello {', 1)", "Invalid template in States.Format: matching '}' not found for '{'."),
        ("States.Format('}')", "Invalid template in States.Format: matching '{' not found for '}'."),
        ("States.Format($.arr, 1)", "Invalid arguments in States.Format"),
    ],
)
def test_format_template_errors(expression: str, cause: str) -> None:
    with pytest.raises(StatesError) as failure:
        ev(expression)
    assert (
        failure.value.cause
        == f"There was an error while evaluating the intrinsic function: {expression}. {cause}"
    )


@pytest.mark.parametrize(
    ("expression", "argument"),
    [
        ("States.Format('{}', $.nope)", "$.nope"),
        ("States.Format('{} {}', $.arr[0], $.a.b)", "$.a.b"),
        ("States.Format('{}', States.Format('{}', $.nope))", "$.nope"),
        ("States.Format('{}', $.arr[50])", "$.arr[50]"),
        ("States.Format('{}', $$.Nope.Deep)", "$.Nope.Deep"),
        ("States.ArrayLength($nosuchvar)", "$nosuchvar"),
    ],
)
def test_a_missing_path_argument_names_the_whole_expression(expression: str, argument: str) -> None:
    with pytest.raises(StatesError) as failure:
        ev(expression, {"arr": [1]})
    assert failure.value.error == "States.Runtime"
    assert failure.value.cause == (
        f"The function '{expression}' had the following error: The JsonPath argument for the field '{argument}' "
        """could not be found in the input '{"arr":[1]}'"""
    )


def test_an_explicit_null_argument_is_a_value() -> None:
    assert ev("States.Format('{}', $.nul)") == "null"
    assert ev("States.ArrayLength($.items[*].nope)", {"items": [1, 2]}) == 0


def test_limits_on_text_arguments() -> None:
    assert len(ev("States.Base64Encode($.s)", {"s": "a" * 10_000})) == 13_336
    assert len(ev("States.Hash($.s, 'SHA-256')", {"s": "a" * 10_000})) == 64
    for function in ("States.Base64Encode($.s)", "States.Base64Decode($.s)", "States.Hash($.s, 'MD5')"):
        with pytest.raises(StatesError):
            ev(function, {"s": "A" * 10_001})


def test_hash_of_a_non_string_hashes_its_json_text() -> None:
    assert ev("States.Hash(123, 'MD5')") == ev("States.Hash('123', 'MD5')")
    assert ev("States.Hash($.obj, 'MD5')") == ev(
        "States.Hash($.s, 'MD5')", {"obj": {}, "s": '{"Arg1":1,"Arg2":[]}'} | INPUT
    )


def test_randomness_comes_from_the_scope_or_the_seed() -> None:
    first = [ev("States.MathRandom(1, 1000)", seed=s) for s in range(20)]
    assert first == [ev("States.MathRandom(1, 1000)", seed=s) for s in range(20)]
    assert len(set(first)) > 1
    assert all(1 <= value < 1000 for value in first)
    seeded = {ev("States.MathRandom(1, 1000, 42)", seed=s) for s in range(5)}
    assert len(seeded) == 1
    assert ev("States.MathRandom(1.6, 2.4)") == 1  # bounds are cut to [1, 2)


def test_uuid_is_a_version_4_uuid_from_the_scope() -> None:
    value = ev("States.UUID()", seed=3)
    assert value == ev("States.UUID()", seed=3) != ev("States.UUID()", seed=4)
    assert len(value) == 36 and value[14] == "4" and value[19] in "89ab"


@pytest.mark.parametrize(
    "text",
    [
        "States.Array(",
        "States.Array($.a) trailing",
        "States.Array([1,2])",
        "States.Array(1.)",
        "States.Array(.5)",
        "States.Format('open \\x')",
        "States.Format('unclosed)",
        "States.Nope(1)",
        "States.Array(1,)",
        "States.Array(nulls)",
    ],
)
def test_malformed_calls_are_refused(text: str) -> None:
    with pytest.raises(IntrinsicSyntaxError):
        parse_intrinsic(text)
    with pytest.raises(StatesError) as failure:
        ev(text)
    assert failure.value.error == "States.Runtime"


def test_is_intrinsic() -> None:
    assert is_intrinsic("States.Format('x')")
    assert is_intrinsic("States.Array ()")
    assert not is_intrinsic("$.States.Format('x')")
    assert not is_intrinsic(None)
    assert not is_intrinsic("States.Format")


def test_parsed_calls_are_cached() -> None:
    assert parse_intrinsic("States.Array(1)") is parse_intrinsic("States.Array(1)")


@given(st.text(max_size=200))
def test_base64_round_trip(text: str) -> None:
    encoded = ev("States.Base64Encode($.s)", {"s": text})
    assert encoded == base64.b64encode(text.encode("utf-8", errors="replace")).decode()
    decoded = ev("States.Base64Decode($.s)", {"s": encoded})
    assert decoded == text.encode("utf-8", errors="replace").decode("utf-8", errors="replace")


@given(st.lists(st.integers(), max_size=30), st.integers(1, 12))
def test_partition_keeps_every_item_in_order(items: list[int], size: int) -> None:
    chunks = ev(f"States.ArrayPartition($.a, {size})", {"a": items})
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool))
def test_range_is_inclusive_of_a_reachable_end(start: int, end: int, step: int) -> None:
    expected = list(range(start, end + (1 if step > 0 else -1), step))
    assert ev(f"States.ArrayRange({start}, {end}, {step})") == expected


@given(st.text(alphabet="ab,;", max_size=20), st.text(alphabet=",;", min_size=1, max_size=2))
def test_split_drops_empty_tokens_like_java_string_tokenizer(text: str, delimiters: str) -> None:
    tokens = [text]
    for delimiter in delimiters:
        tokens = [piece for token in tokens for piece in token.split(delimiter)]
    assert ev("States.StringSplit($.t, $.d)", {"t": text, "d": delimiters}) == [t for t in tokens if t]


@given(st.lists(st.integers(-3, 3) | st.booleans() | st.none(), max_size=12))
def test_unique_keeps_first_occurrences(items: list[Any]) -> None:
    unique = ev("States.ArrayUnique($.a)", {"a": items})
    assert len(unique) == len({json.dumps(item) for item in items})
    assert all(ev("States.ArrayContains($.a, $.i)", {"a": unique, "i": item}) for item in items)


@given(st.text(alphabet=st.sampled_from("ab '{}\\\"$,()é"), max_size=20))
def test_string_literals_unescape_exactly(text: str) -> None:
    literal = "".join("\\" + char if char in "'{}\\" else char for char in text)
    assert ev(f"States.Array('{literal}', 1)") == [text, 1]
    assert ev(f"States.Format('{literal}')") == text
