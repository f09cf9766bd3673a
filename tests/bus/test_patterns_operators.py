"""Each operator of the pattern language on the values it accepts and refuses (semantics as AWS documents
them and as event-ruler implements them)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bus.patterns_helpers import matches

# (the value array of field "f", or one match expression for it; the event's "f" (MISSING: absent); match?)
Case = tuple[list[Any] | dict[str, Any], Any, bool]
MISSING = object()


def check(cases: list[Case]) -> None:
    for operand, value, expected in cases:
        fields = {} if value is MISSING else {"f": value}
        values = operand if isinstance(operand, list) else [operand]
        assert matches({"f": values}, **fields) is expected, (operand, value)


def test_exact_values_match_by_json_type() -> None:
    check([
        (["a"], "a", True), (["a"], "A", False), (["a"], ["x", "a"], True), (["a", "b"], "b", True),
        ([""], "", True), ([""], MISSING, False), (["1"], 1, False), ([1], "1", False),
        ([300], 300.0, True), ([3.0e2], 300, True), ([0.1], 0.1, True), ([1], True, False),
        ([True], True, True), ([True], "true", False), ([False], 0, False), ([None], None, True),
        ([None], MISSING, False), ([None], "null", False),
        ([12345678901234567890], 12345678901234567890, True), ([12345678901234567890], 12345678901234567000, False),
    ])  # fmt: skip


def test_an_exact_address_matches_the_same_address_however_written() -> None:
    check([
        (["10.0.0.1"], "10.0.0.1", True), (["2001:db8::1"], "2001:0DB8:0:0:0:0:0:1", True),
        (["2001:db8::1"], "2001:db8::2", False), (["1:2"], "1:2", True),
    ])  # fmt: skip


def test_prefix_and_suffix_apply_to_strings_only() -> None:
    check([
        ({"prefix": "ab"}, "abc", True), ({"prefix": "ab"}, "xab", False), ({"prefix": ""}, "", True),
        ({"prefix": ""}, 1, False), ({"prefix": "1"}, 12, False), ({"suffix": ".png"}, "a.png", True),
        ({"suffix": ".png"}, "a.PNG", False), ({"suffix": ""}, None, False),
    ])  # fmt: skip


def test_ignore_case_forms() -> None:
    check([
        ({"equals-ignore-case": "AbC"}, "aBc", True), ({"equals-ignore-case": "abc"}, "abcd", False),
        ({"equals-ignore-case": "é"}, "É", True), ({"equals-ignore-case": "ß"}, "SS", True),
        ({"equals-ignore-case": "k"}, "\u212a", False), ({"equals-ignore-case": "1"}, 1, False),
        ({"prefix": {"equals-ignore-case": "EventB"}}, "eventbridge", True),
        ({"prefix": {"equals-ignore-case": "EventB"}}, "xeventb", False),
        ({"suffix": {"equals-ignore-case": ".png"}}, "A.PnG", True),
        ({"suffix": {"equals-ignore-case": "É"}}, "aé", True),
    ])  # fmt: skip


def test_anything_but_matches_every_value_not_excluded_but_not_a_missing_field() -> None:
    check([
        ({"anything-but": "a"}, "b", True), ({"anything-but": "a"}, "a", False),
        ({"anything-but": "a"}, None, True), ({"anything-but": "a"}, MISSING, False),
        ({"anything-but": "a"}, ["a", "b"], True), ({"anything-but": "a"}, ["a"], False),
        ({"anything-but": ["a", "b"]}, "b", False), ({"anything-but": 100}, 100.0, False),
        ({"anything-but": 100}, "100", True), ({"anything-but": [1, 2]}, 3, True),
        ({"anything-but": "x"}, True, True), ({"anything-but": "x"}, [], False),
    ])  # fmt: skip


def test_anything_but_nested_forms_match_non_strings() -> None:
    check([
        ({"anything-but": {"prefix": "in"}}, "init", False), ({"anything-but": {"prefix": "in"}}, "out", True),
        ({"anything-but": {"prefix": ["a", "b"]}}, "bx", False), ({"anything-but": {"prefix": "1"}}, 12, True),
        ({"anything-but": {"suffix": ".txt"}}, "a.txt", False), ({"anything-but": {"suffix": ".txt"}}, None, True),
        ({"anything-but": {"equals-ignore-case": "ok"}}, "OK", False),
        ({"anything-but": {"equals-ignore-case": ["a", "b"]}}, "C", True),
        ({"anything-but": {"wildcard": "*/lib/*"}}, "x/lib/y", False),
        ({"anything-but": {"wildcard": "*/lib/*"}}, "x/bin/y", True),
        ({"anything-but": {"wildcard": ""}}, "", False), ({"anything-but": {"wildcard": "*"}}, 5, True),
    ])  # fmt: skip


def test_numeric_ranges_compare_numbers_by_value() -> None:
    check([
        ({"numeric": [">", 0, "<=", 5]}, 5, True), ({"numeric": [">", 0, "<=", 5]}, 0, False),
        ({"numeric": [">=", 0, "<", 5]}, 0, True), ({"numeric": [">=", 0, "<", 5]}, 5, False),
        ({"numeric": ["<", 10]}, -1e300, True), ({"numeric": ["=", 301.8]}, 301.8, True),
        ({"numeric": ["=", 3.018e2]}, 301.8, True), ({"numeric": ["=", 5]}, 5.000001, False),
        ({"numeric": [">", 100]}, "300", False), ({"numeric": [">", 100]}, None, False),
        ({"numeric": [">", 100]}, True, False), ({"numeric": [">", 100]}, [1, 300], True),
        ({"numeric": [">", 0]}, 12345678901234567890, False),
    ])  # fmt: skip


def test_exists() -> None:
    check([
        ({"exists": True}, "x", True), ({"exists": True}, None, True), ({"exists": True}, MISSING, False),
        ({"exists": True}, [], False), ({"exists": True}, {"inner": 1}, False), ({"exists": False}, MISSING, True),
        ({"exists": False}, None, False), ({"exists": False}, [], True), ({"exists": False}, {}, True),
    ])  # fmt: skip


def test_cidr_covers_from_the_given_address_to_the_top_of_its_block() -> None:
    check([
        ({"cidr": "10.0.0.0/24"}, "10.0.0.255", True), ({"cidr": "10.0.0.0/24"}, "10.0.1.0", False),
        ({"cidr": "10.0.0.0/24"}, "10.0.0.256", False), ({"cidr": "10.0.0.0/24"}, 10, False),
        # AWS compiles the block from the address as given: the host bits below it are not covered
        ({"cidr": "10.0.0.5/24"}, "10.0.0.4", False), ({"cidr": "10.0.0.5/24"}, "10.0.0.6", True),
        ({"cidr": "2001:db8:1234:1a00::/64"}, "2001:db8:1234:1a00:ffff::1", True),
        ({"cidr": "2001:db8:1234:1a00::/64"}, "10.0.0.1", False),
    ])  # fmt: skip


def test_wildcards() -> None:
    check([
        ({"wildcard": "*.png"}, "a.png", True), ({"wildcard": "*.png"}, ".png", True),
        ({"wildcard": "a*b"}, "ab", True), ({"wildcard": "a*b"}, "acb\nb", True), ({"wildcard": "a*b"}, "abc", False),
        ({"wildcard": "a\\*b"}, "a*b", True), ({"wildcard": "a\\*b"}, "axb", False),
        ({"wildcard": "a\\\\b"}, "a\\b", True), ({"wildcard": ""}, "", True), ({"wildcard": "*"}, 1, False),
    ])  # fmt: skip


def test_a_field_is_any_of_its_values_and_fields_are_all_required() -> None:
    pattern = {"f": ["a", {"prefix": "x"}, {"numeric": [">", 9]}], "g": [{"exists": True}]}
    assert matches(pattern, f="xy", g=1)
    assert matches(pattern, f=10, g=1)
    assert not matches(pattern, f=10)
    assert not matches(pattern, f="b", g=1)


def test_or_alternatives_and_nested_or() -> None:
    pattern = {"source": ["s"], "$or": [{"a": ["1"]}, {"b": ["2"], "$or": [{"c": ["3"]}, {"d": ["4"]}]}]}
    assert matches(pattern, source="s", a="1")
    assert matches(pattern, source="s", b="2", d="4")
    assert not matches(pattern, source="s", b="2")
    assert not matches(pattern, source="x", a="1")


def test_a_path_repeated_keeps_its_last_value_also_across_or() -> None:
    text = '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'
    assert matches(text, detail={"location": "eu-central-1"})
    # AWS copies the fields read before $or into each alternative, where a repeated path replaces them
    pattern = {"a": ["1"], "$or": [{"a": ["2"]}, {"b": ["3"]}]}
    assert matches(pattern, a="2")
    assert matches(pattern, a="1", b="3")
    assert not matches(pattern, a="1")


def test_dots_in_keys_are_the_same_as_nesting() -> None:
    assert matches({"detail": {"state.status": ["on"]}}, detail={"state": {"status": "on"}})
    assert matches({"detail": {"state": {"status": ["on"]}}}, detail={"state.status": "on"})
    assert not matches({"detail": {"state": ["on"]}}, detail={"state": {"status": "on"}})


def test_keys_are_case_sensitive() -> None:
    assert not matches({"Source": ["test-source"]})
    assert matches({"source": ["test-source"]})


def test_fields_inside_one_array_of_objects_must_match_the_same_element() -> None:
    pattern = {"items": {"sku": ["a"], "qty": [{"numeric": [">", 1]}]}}
    assert matches(pattern, items=[{"sku": "a", "qty": 2}])
    assert matches(pattern, items=[{"sku": "b", "qty": 5}, {"sku": "a", "qty": 2}])
    assert not matches(pattern, items=[{"sku": "a", "qty": 1}, {"sku": "b", "qty": 5}])
    # an absent field (exists: false) is judged on the whole event
    assert not matches(
        {"items": {"sku": ["a"], "gift": [{"exists": False}]}}, items=[{"sku": "a"}, {"gift": 1}]
    )


@pytest.mark.parametrize("event_value", ['{"my-key": "my-value"}', [["x"]]])
def test_values_are_not_parsed_or_unwrapped_beyond_json(event_value: Any) -> None:
    assert not matches({"f": {"my-key": ["my-value"]}}, f=event_value)
