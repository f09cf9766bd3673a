"""JSON text as AWS's Java runtime writes it, and Jackson's notion of equal values."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepdance.asl.jsontext import equality_key, java_double, java_string, to_json


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.1, "1.1"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (1e20, "1.0E20"),
        (0.0001, "1.0E-4"),
        (1.5e-5, "1.5E-5"),
        (-2.5e-10, "-2.5E-10"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
    ],
)
def test_doubles_print_as_java_does(value: float, text: str) -> None:
    assert java_double(value) == text


def test_json_is_compact_like_jackson() -> None:
    value = {"a": [1, 2.5, 1e20, None, True, False], "é": 'x\u0001"\\/\n', "o": {}}
    assert to_json(value) == '{"a":[1,2.5,1.0E20,null,true,false],"é":"x\\u0001\\"\\\\/\\n","o":{}}'


def test_escaped_text_that_looks_like_an_escape_is_left_alone() -> None:
    assert to_json("\\u00ab\u001f") == '"\\\\u00ab\\u001F"'


def test_java_string_renders_maps_and_lists() -> None:
    value = {"Id": "arn:x", "Nested": {"a": [1, "b", None]}, "f": 1.0, "t": True}
    assert java_string(value) == "{Id=arn:x, Nested={a=[1, b, null]}, f=1.0, t=true}"
    assert java_string("plain") == "plain"
    assert java_string(None) == "null"


def test_equality_keeps_types_apart_and_ignores_key_order() -> None:
    assert equality_key({"a": 1, "b": [1]}) == equality_key({"b": [1], "a": 1})
    assert equality_key(1) != equality_key(1.0)
    assert equality_key(1) != equality_key(True)
    assert equality_key(0) != equality_key(False)
    assert equality_key(None) != equality_key("null")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=25,
)


@given(json_values)
def test_json_text_parses_back_to_the_same_value(value: Any) -> None:
    text = to_json(value)
    assert json.loads(text) == value


printable_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(min_codepoint=32)),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(min_codepoint=32), max_size=5), children, max_size=4)
    ),
    max_leaves=25,
)


@given(printable_values)
def test_json_text_without_doubles_is_pythons_compact_form(value: Any) -> None:
    assert to_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_java_doubles_parse_back_exactly(value: float) -> None:
    text = java_double(value)
    parsed = float(text.replace("E", "e"))
    assert parsed == value and math.copysign(1, parsed) == math.copysign(1, value)
    assert "." in text  # Java always writes a fraction digit


@given(json_values, json_values)
def test_equality_key_matches_json_equality_when_types_agree(a: Any, b: Any) -> None:
    if equality_key(a) == equality_key(b):
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
