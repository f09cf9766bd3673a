"""Paths as AWS evaluates them (Jayway JsonPath): definite paths, lists for indefinite ones, the errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepdance.asl import errors
from stepdance.asl.errors import StatesError
from stepdance.asl.jsonpath import (
    InvalidPath,
    PathNotFound,
    apply_result_path,
    compile_path,
    query,
    select,
)
from stepdance.asl.jsonpath_parse import JsonPathSyntaxError
from stepdance.asl.scope import Scope

STORE: dict[str, Any] = {
    "store": {
        "book": [
            {"category": "fiction", "title": "A", "price": 8, "tags": ["x", "y"]},
            {"category": "fiction", "title": "B", "price": 12.5},
            {"category": "reference", "title": "C", "price": 5, "isbn": "0-1"},
        ],
        "bicycle": {"color": "red", "price": 19},
    },
    "items": [1, 2, 3],
    "nothing": None,
    "a-b": {"c d": 1},
}
SCOPE = Scope(
    context={"Execution": {"Id": "arn:x", "Input": {"k": "v"}}, "Map": {"Item": {"Value": 7, "Index": 0}}},
    variables={"var": {"list": [10, 20]}, "n": 42},
)


def q(path: str, value: Any = STORE) -> Any:
    return query(path, value, SCOPE)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", STORE),
        ("$.store.bicycle.color", "red"),
        ("$['store']['bicycle']['color']", "red"),
        ('$["store"]["bicycle"]["price"]', 19),
        ("$.store.book[0].title", "A"),
        ("$.store.book[-1].title", "C"),
        ("$.items[1]", 2),
        ("$.nothing", None),
        ("$.a-b['c d']", 1),
        ("$.store['bicycle','missing']", {"bicycle": {"color": "red", "price": 19}}),
        ("$.items.length()", 3),
        ("$.items.max()", 3.0),
        ("$$.Execution.Input.k", "v"),
        ("$$", SCOPE.context),
        ("$$.Map.Item.Value", 7),
        ("$var.list[1]", 20),
        ("$n", 42),
    ],
)
def test_definite_paths_return_the_value(path: str, expected: Any) -> None:
    assert q(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.store.book[*].title", ["A", "B", "C"]),
        ("$.store.book.*.price", [8, 12.5, 5]),
        ("$..price", [8, 12.5, 5, 19]),
        ("$..book[0].title", ["A"]),
        ("$.store.book[0,2].title", ["A", "C"]),
        ("$.store.book[1:].title", ["B", "C"]),
        ("$.store.book[:2].title", ["A", "B"]),
        ("$.store.book[-2:].title", ["B", "C"]),
        ("$.store.book[0:10].title", ["A", "B", "C"]),
        ("$.store.book[?(@.price < 10)].title", ["A", "C"]),
        ("$.store.book[?(@.price >= 12.5 && @.category == 'fiction')].title", ["B"]),
        ("$.store.book[?(@.isbn)].title", ["C"]),
        ("$.store.book[?(!@.isbn)].title", ["A", "B"]),
        ("$.store.book[?(@.title =~ /[ab]/i)].title", ["A", "B"]),
        ("$.store.book[?(@.category in ['reference'])].title", ["C"]),
        ("$.store.book[?(@.tags contains 'y')].title", ["A"]),
        ("$.store.book[?(@.tags size 2)].title", ["A"]),
        ("$.store.book[?(@.price > $.store.bicycle.price)].title", []),
        ("$.store.book[?(@.price == '8')].title", ["A"]),
        ("$.store.*", [STORE["store"]["book"], STORE["store"]["bicycle"]]),
        ("$.missing[*]", []),
        ("$.item.items[1:5].itemValue", []),
        ("$.items[5:]", []),
        ("$.store.book[*].isbn", ["0-1"]),
    ],
)
def test_indefinite_paths_return_lists(path: str, expected: Any) -> None:
    assert q(path) == expected


def test_wildcard_over_an_empty_input_is_an_empty_list() -> None:
    assert q("$[*]", {}) == []


def test_an_index_past_the_end_reads_as_null_as_on_aws() -> None:
    assert q("$.items[10]") is None
    assert q("$.items[-10]") is None


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("$.missing", "No results for path: $['missing']"),
        ("$.store.book[0].missing", "No results for path: $['store']['book'][0]['missing']"),
        ("$.missing.deeper", "Missing property in path $['missing']"),
        ("$.nothing[0]", "The path $['nothing'] is null"),
        ("$.store.bicycle.color[0]", "Filter: [0] can only be applied to arrays. Current context is: red"),
        (
            "$.items[7].x",
            "Expected to find an object with property ['x'] in path $['items'][7] but found 'null'",
        ),
        ("$$.Execution.Nope", "No results for path: $['Execution']['Nope']"),
        ("$nosuchvar", "No results for path: $nosuchvar"),
    ],
)
def test_a_definite_path_that_finds_nothing_fails_with_jayways_message(path: str, detail: str) -> None:
    with pytest.raises(PathNotFound) as failure:
        q(path)
    assert failure.value.error == errors.RUNTIME
    assert failure.value.detail.startswith(detail)
    assert failure.value.cause == f"Invalid path '{path}' : {failure.value.detail}"


def test_quoted_names_keep_their_backslashes() -> None:
    key = 'Test\\""Name"'
    assert q('$[\'Test\\""Name"\']', {key: "Value"}) == "Value"


@pytest.mark.parametrize(
    "text", ["", "a.b", "$.", "$..", "$.a b", "$[", "$['a'", "$[1:2:3]", "$.nofn()", "$[?(@.a ==)]"]
)
def test_malformed_paths_are_refused(text: str) -> None:
    with pytest.raises(JsonPathSyntaxError):
        compile_path(text)
    if text:
        with pytest.raises(InvalidPath):
            q(text)


def test_compiled_paths_are_cached() -> None:
    assert compile_path("$.a.b[0]") is compile_path("$.a.b[0]")


def test_definiteness_follows_jayway() -> None:
    assert compile_path("$.a['b','c']").definite  # a trailing multi-name merges into one object
    assert not compile_path("$['b','c'].d").definite
    assert not compile_path("$.a[0,1]").definite
    assert compile_path("$.a[-1]").definite


# --------------------------------------------------------------------------- select


def test_select_null_gives_an_empty_object_and_dollar_the_value() -> None:
    assert select(None, STORE, SCOPE, field="InputPath") == {}
    assert select("$", STORE, SCOPE, field="OutputPath") is STORE


def test_select_reports_a_miss_with_aws_wording() -> None:
    with pytest.raises(StatesError) as failure:
        select("$.NoSuchInputPath", {"int-literal": 0}, SCOPE, field="InputPath")
    assert failure.value.error == "States.Runtime"
    assert (
        failure.value.cause == "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )


def test_select_items_path_names_the_step_that_does_not_apply() -> None:
    with pytest.raises(StatesError) as failure:
        select("$.detail.items", {"detail": {"a": 1}}, SCOPE, field="ItemsPath")
    assert failure.value.error == "States.ReferencePathConflict"
    assert failure.value.cause == 'Unable to apply step "items" to input {"detail":{"a":1}}'


def test_select_reads_variables_and_the_context() -> None:
    assert select("$var.list", {}, SCOPE, field="ItemsPath") == [10, 20]
    assert select("$$.Execution.Input", {}, SCOPE, field="InputPath") == {"k": "v"}


# --------------------------------------------------------------------------- ResultPath


def test_result_path_null_keeps_the_input_and_dollar_replaces_it() -> None:
    assert apply_result_path(None, STORE, 1) is STORE
    assert apply_result_path("$", STORE, 1) == 1


def test_result_path_writes_into_a_copy_creating_objects() -> None:
    state_input = {"a": {"keep": 1}, "b": [1, 2]}
    output = apply_result_path("$.a.new.deep", state_input, "r")
    assert output == {"a": {"keep": 1, "new": {"deep": "r"}}, "b": [1, 2]}
    assert state_input == {"a": {"keep": 1}, "b": [1, 2]}  # untouched
    assert output["b"] is state_input["b"]  # only the path is copied


def test_result_path_keeps_the_position_of_a_replaced_key() -> None:
    assert list(apply_result_path("$.a", {"a": 1, "b": 2}, 3)) == ["a", "b"]


def test_result_path_can_write_into_an_array_element() -> None:
    assert apply_result_path("$[1].payload", [{"a": 1}, {"id": 7}], {"s": 1}) == [
        {"a": 1},
        {"id": 7, "payload": {"s": 1}},
    ]


@pytest.mark.parametrize(
    ("path", "state_input", "shown"),
    [
        ("$.x", "just-a-string", '"just-a-string"'),
        ("$.x", [1, 2], "[1,2]"),
        ("$.a.b", {"a": 5}, '{"a":5}'),
        ("$[10].payload", [{"a": 1}], '[{"a":1}]'),
        ("$.a[0]", {}, "{}"),
    ],
)
def test_result_path_that_does_not_fit_the_input_fails(path: str, state_input: Any, shown: str) -> None:
    with pytest.raises(StatesError) as failure:
        apply_result_path(path, state_input, {"r": 1})
    assert failure.value.error == errors.RESULT_PATH_MATCH_FAILURE
    assert failure.value.cause == f"Unable to apply ReferencePath {path} to input {shown}"


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)
names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)


@given(st.dictionaries(names, json_values, max_size=5), st.lists(names, min_size=1, max_size=4), json_values)
def test_result_path_round_trip(state_input: dict[str, Any], keys: list[str], result: Any) -> None:
    path = "$." + ".".join(keys)
    try:
        output = apply_result_path(path, state_input, result)
    except StatesError:
        # Only when some prefix of the path holds something other than an object.
        node: Any = state_input
        for key in keys[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                return
        raise
    assert q(path, output) == result
    for key, value in state_input.items():
        if key != keys[0]:
            assert output[key] == value


@given(json_values)
def test_deep_scan_finds_every_value_of_a_name(document: Any) -> None:
    expected: list[Any] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if "a" in node:
                expected.append(node["a"])
            for item in node.values():
                collect(item)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    assert q("$..a", document) == expected


@given(st.lists(st.integers(), max_size=8), st.integers(-10, 10), st.integers(-10, 10))
def test_slices_select_what_python_slices_select(items: list[int], start: int, end: int) -> None:
    # Bounds are clamped to the array, as Python does (Jayway has no step).
    assert q(f"$[{start}:{end}]", items) == items[start:end]
    assert q(f"$[{start}:]", items) == items[start:]
    assert q(f"$[:{end}]", items) == items[:end]


steps = st.lists(names | st.integers(-3, 3), min_size=1, max_size=4)


@given(json_values, steps)
def test_definite_paths_read_what_plain_indexing_reads(document: Any, keys: list[str | int]) -> None:
    path = "$" + "".join(f"['{key}']" if isinstance(key, str) else f"[{key}]" for key in keys)
    node: Any = document
    for position, key in enumerate(keys):
        leaf = position == len(keys) - 1
        if isinstance(key, str) and isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(key, int) and isinstance(node, list):
            if -len(node) <= key < len(node):
                node = node[key]
            elif leaf:
                node = None  # past the end: null, as AWS reads it
            else:
                node = _MISS
                break
        else:
            node = _MISS
            break
    if node is _MISS:
        with pytest.raises(PathNotFound):
            q(path, document)
    else:
        assert q(path, document) == node


_MISS = object()
