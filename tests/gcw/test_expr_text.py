"""The ``text`` module, with the examples from its reference pages."""

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
    ("text", "expected"),
    [
        ('text.split("baaab", "aa")', ["b", "ab"]),  # text.split example 1: leftmost match
        ('text.split("abc", "a")', ["", "bc"]),  # example 2: separator at the beginning
        ('text.split("abc", "c")', ["ab", ""]),  # example 3: separator at the end
        ('text.split("abbc", "b")', ["a", "", "c"]),  # example 4: consecutive separators
        ('text.split("abc", "x")', ["abc"]),  # separator not found
        ('text.split("", ",")', [""]),
    ],
)
def test_split(text: str, expected: list[str]) -> None:
    assert run(text) == expected


def test_split_errors() -> None:
    assert tags_of('text.split("abc", "")') == ["ValueError"]  # empty separator
    assert tags_of('text.split(1, ",")') == ["TypeError"]
    assert tags_of('text.split("a", 1)') == ["TypeError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('text.substring("hello", 2, 4)', "ll"),  # text.substring example 1
        ('text.substring("hello", -10, 10)', "hello"),  # example 2: offset from the end, clamped
        ('text.substring("hello", -3, -1)', "ll"),
        ('text.substring("hello", 3, 1)', ""),
        ('text.substring("héllo", 1, 2)', "é"),  # code points
    ],
)
def test_substring(text: str, expected: str) -> None:
    assert run(text) == expected


def test_substring_type_errors() -> None:
    assert tags_of("text.substring(1, 0, 1)") == ["TypeError"]
    assert tags_of('text.substring("a", 0.0, 1)') == ["TypeError"]
    assert tags_of('text.substring("a", 0, true)') == ["TypeError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('text.replace_all_regex("one two", "one|two", "three")', "three three"),  # its reference example
        ('text.replace_all_regex("abc", "(b)", "\\\\1")', "a\\1c"),  # backreferences are not expanded
        ('text.replace_all_regex("ab", "", "-")', "-a-b-"),  # empty pattern: k+1 replacements
        ('text.replace_all_regex("aaa", "a*?", "-")', "-a-a-a-"),
        ('text.replace_all("a.b.c", ".", "/")', "a/b/c"),
        ('text.replace_all("aaa", "aa", "b")', "ba"),
    ],
)
def test_replace(text: str, expected: str) -> None:
    assert run(text) == expected


def test_regex_errors_are_value_errors() -> None:
    assert tags_of('text.replace_all_regex("a", "(", "b")') == ["ValueError"]
    assert tags_of('text.match_regex("a", "(?=a)")') == ["ValueError"]  # RE2 has no lookahead
    assert tags_of('text.match_regex("aa", "(a)\\\\1")') == ["ValueError"]  # nor backreferences
    assert tags_of('text.match_regex("a", "a++")') == ["ValueError"]  # nor possessive quantifiers
    assert tags_of('text.find_all_regex("a", "\\\\p{Greek}")') == ["ValueError"]
    assert tags_of('text.find_all_regex(1, "a")') == ["TypeError"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('text.match_regex("abc123", "[0-9]+")', True),
        ('text.match_regex("abc", "^[0-9]+$")', False),
        ('text.match_regex("ABC", "(?i)abc")', True),
        ('text.match_regex("x", "\\\\Qa.b\\\\E")', False),  # RE2 \Q...\E quotes literally
        ('text.match_regex("a.b", "\\\\Qa.b\\\\E")', True),
        ('text.match_regex("ab", "b\\\\z")', True),  # RE2 \z: end of text
        ('text.match_regex("a9", "[[:alpha:]][[:digit:]]")', True),  # RE2 POSIX classes
        ('text.match_regex("٣", "\\\\d")', False),  # RE2 \d is ASCII-only
        ('text.match_regex("key=v", "(?P<k>\\\\w+)=(?<v>\\\\w+)")', True),
        ('text.match_regex("]", "[]]")', True),
        ('text.match_regex("a&b", "a[&|~]b")', True),
    ],
)
def test_match_regex(text: str, expected: bool) -> None:
    assert run(text) is expected


def test_find_all_and_find_all_regex_return_index_and_match() -> None:
    assert run('text.find_all("Hello World", "o")') == [
        {"index": 4, "match": "o"},
        {"index": 7, "match": "o"},
    ]
    assert run('text.find_all("aaaa", "aa")') == [{"index": 0, "match": "aa"}, {"index": 2, "match": "aa"}]
    assert run('text.find_all("abc", "x")') == []
    assert run('text.find_all("ab", "")') == [{"index": i, "match": ""} for i in range(3)]
    assert run('text.find_all_regex("a1b22c333", "[0-9]+")') == [
        {"index": 1, "match": "1"},
        {"index": 3, "match": "22"},
        {"index": 6, "match": "333"},
    ]
    assert run('text.find_all_regex("é1", "[0-9]")') == [{"index": 1, "match": "1"}]  # code point index


def test_case_conversion() -> None:
    assert run('text.to_lower("HeLLo")') == "hello"
    assert run('text.to_upper("straße")') == "STRASSE"
    assert tags_of("text.to_upper(1)") == ["TypeError"]


def test_encode_and_decode() -> None:
    assert run('text.encode("héllo")') == "héllo".encode()
    assert run('text.decode(text.encode("héllo"))') == "héllo"
    assert run('text.encode("é", "ISO-8859-1")') == b"\xe9"
    assert run('text.decode(b, "latin1")', {"b": b"\xe9"}) == "é"
    assert run('text.decode(b, "utf-16")', {"b": "hi".encode("utf-16")}) == "hi"
    assert tags_of("text.decode(b)", {"b": b"\xff"}) == ["ValueError"]
    assert tags_of('text.encode("é", "US-ASCII")') == ["ValueError"]
    assert tags_of('text.encode("a", "rot13")') == ["ValueError"]  # not a charset
    assert tags_of('text.decode("not bytes")') == ["TypeError"]


def test_url_encoding() -> None:
    assert run('text.url_encode("a b&c/d?é~")') == "a%20b%26c%2Fd%3F%C3%A9~"
    assert run('text.url_encode_plus("a b&c")') == "a+b%26c"
    assert run('text.url_decode("a%20b%26c%C3%A9")') == "a b&cé"
    assert run('text.url_decode("a+b")') == "a+b"
    assert tags_of('text.url_decode("%zz")') == ["ValueError"]
    assert tags_of('text.url_decode("%ff")') == ["ValueError"]


def test_documented_error_string_round_trip() -> None:
    # Error docs: json.decode(text.encode(ERROR_FROM_API)) restores an error serialized as a string.
    payload = '{"code": 404, "message": "not found"}'
    assert run("json.decode(text.encode(e))", {"e": payload}) == {"code": 404, "message": "not found"}


def test_results_longer_than_the_string_limit_are_resource_limit_errors() -> None:
    big = "a" * 200_000
    assert tags_of('text.replace_all(s, "a", "bb")', {"s": big}) == ["ResourceLimitError"]
    assert tags_of("s + s", {"s": big}) == ["ResourceLimitError"]
    # An empty pattern matches k+1 times: refused before the huge result is built.
    assert tags_of('text.replace_all(s, "", s)', {"s": big}) == ["ResourceLimitError"]
    assert tags_of('text.replace_all_regex(s, "", s)', {"s": big}) == ["ResourceLimitError"]
    assert tags_of('text.replace_all_regex(s, "a", "bb")', {"s": big}) == ["ResourceLimitError"]
