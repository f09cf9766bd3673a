"""The ``math``, ``list``, ``map``, ``time``, ``uuid``, ``sys``, ``http`` and ``retry`` modules."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.gcw.expr import (
    Backoff,
    Context,
    FunctionRef,
    RetryPolicy,
    WorkflowsError,
    call_function,
    evaluate,
    parse,
)

CONTEXT = Context.fixed(now=1715169660.25, uuids=["0b0e9f4e-1d62-4d7b-9d3f-5b0c2f0a6b1e"], env={"A": "1"})


def run(text: str, scope: dict[str, Any] | None = None, context: Context = CONTEXT) -> Any:
    return evaluate(parse(text), scope or {}, context)


def tags_of(text: str, scope: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(WorkflowsError) as raised:
        run(text, scope)
    return raised.value.tags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("math.abs(-3)", 3),
        ("math.abs(-2.5)", 2.5),
        ("math.floor(2.7)", 2),
        ("math.floor(-2.5)", -3),
        ("math.floor(4)", 4),
        ("math.max(1, 2.5)", 2.5),
        ("math.max(3, 2.5)", 3),
        ("math.min(-1, -1.5)", -1.5),
        ("math.min(2, 7)", 2),
    ],
)
def test_math(text: str, expected: object) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ('math.abs("1")', "TypeError"),
        ("math.floor(true)", "TypeError"),
        ("math.max(1, null)", "TypeError"),
        ("math.abs(-9223372036854775808)", "ValueError"),
        ("math.floor(1e300)", "ValueError"),
    ],
)
def test_math_errors(text: str, tag: str) -> None:
    assert tags_of(text)[0] == tag


def test_list_concat_and_prepend_return_new_lists() -> None:
    scope = {"l": [1, 2]}
    assert run("list.concat(l, 3)", scope) == [1, 2, 3]
    assert run("list.concat(l, [3])", scope) == [1, 2, [3]]  # the value is one element
    assert run('list.prepend(l, "x")', scope) == ["x", 1, 2]
    assert scope["l"] == [1, 2]
    assert tags_of("list.concat(1, 2)") == ["TypeError"]
    assert tags_of('list.prepend("ab", 2)') == ["TypeError"]


def test_map_get_as_documented() -> None:
    my_map = {"key1": "hello", "key2": "world"}
    assert run('map.get(my_map, "key2")', {"my_map": my_map}) == "world"  # map.get's reference example
    assert run('map.get(my_map, "nope")', {"my_map": my_map}) is None
    nested = {"m": {"key1": {"key2": 5}}}
    assert run('map.get(m, ["key1", "key2"])', nested) == 5
    assert run('map.get(m, ["key1", "nope"])', nested) is None
    assert run('map.get(m, ["nope", "key2"])', nested) is None
    assert run('map.get("not a map", "k")') is None  # "If the input is not a map ... returns null"
    assert run("map.get(m, [])", nested) == {"key1": {"key2": 5}}
    assert tags_of("map.get(m, 1)", nested) == [
        "TypeError"
    ]  # "If the key is not a string or a list of strings"
    assert tags_of('map.get(m, ["a", 1])', nested) == ["TypeError"]


def test_map_delete_merge_and_merge_nested() -> None:
    scope = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": {"y": {"q": 3, "r": 4}, "z": 5}}
    assert run('map.delete(a, "x")', scope) == {"y": {"p": 1, "q": 2}}
    assert run('map.delete(a, "missing")', scope) == scope["a"]
    assert run("map.merge(a, b)", scope) == {"x": 1, "y": {"q": 3, "r": 4}, "z": 5}
    assert run("map.merge_nested(a, b)", scope) == {"x": 1, "y": {"p": 1, "q": 3, "r": 4}, "z": 5}
    assert list(run("map.merge(a, b)", scope)) == ["x", "y", "z"]
    assert scope["a"] == {"x": 1, "y": {"p": 1, "q": 2}}  # inputs untouched
    assert tags_of("map.delete(a, 1)", scope) == ["TypeError"]
    assert tags_of("map.merge(a, [1])", scope) == ["TypeError"]
    assert tags_of("map.merge_nested(1, a)", scope) == ["TypeError"]


def test_time_parse_as_documented() -> None:
    assert run('time.parse("2024-05-08T12:01:00.000000Z")') == 1715169660  # time.parse's reference example
    assert run('time.parse("2024-05-08T14:01:00+02:00")') == 1715169660
    assert run('time.parse("2024-05-08T12:01:00.5Z")') == 1715169660.5
    assert run('time.parse("2024-05-08t12:01:00.123456789z")') == pytest.approx(1715169660.123456)
    assert run('time.parse("1969-12-31T23:59:59Z")') == -1
    assert isinstance(run('time.parse("1970-01-01T00:00:00Z")'), float)


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("2024-05-08", "ValueError"),
        ("2024-02-30T00:00:00Z", "ValueError"),
        ("2024-05-08T12:01:00", "ValueError"),
    ],
)
def test_time_parse_errors(value: str, tag: str) -> None:
    assert tags_of("time.parse(v)", {"v": value}) == [tag]
    assert tags_of("time.parse(1)") == ["TypeError"]


def test_time_format() -> None:
    assert run("time.format(1715169660)") == "2024-05-08T12:01:00.000000Z"
    assert run("time.format(1715169660.25)") == "2024-05-08T12:01:00.250000Z"
    assert run("time.format(0)") == "1970-01-01T00:00:00.000000Z"
    assert run('time.format(1715169660, "America/New_York")') == "2024-05-08T08:01:00.000000-04:00"
    assert run('time.format(1704067200, "Asia/Kolkata")') == "2024-01-01T05:30:00.000000+05:30"
    assert run("time.parse(time.format(1715169660.5))") == 1715169660.5
    assert tags_of('time.format("x")') == ["TypeError"]
    assert tags_of('time.format(0, "Mars/Base")') == ["ValueError"]
    assert tags_of("time.format(1e300)") == ["ValueError"]


def test_clock_ids_and_environment_come_only_from_the_context() -> None:
    assert run("sys.now()") == 1715169660.25
    assert run("uuid.generate()") == "0b0e9f4e-1d62-4d7b-9d3f-5b0c2f0a6b1e"
    assert run('sys.get_env("A")') == "1"
    assert run('sys.get_env("B")') is None
    assert run('sys.get_env("B", "fallback")') == "fallback"
    assert tags_of("sys.get_env(1)") == ["TypeError"]


def test_determinism_same_context_same_values() -> None:
    expr = parse('string(sys.now()) + "/" + uuid.generate() + "/" + sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")')

    def replay() -> Any:
        context = Context.fixed(
            now=1635892223.4459958, uuids=["id-1"], env={"GOOGLE_CLOUD_WORKFLOW_ID": "wf"}
        )
        return evaluate(expr, {}, context)

    assert replay() == replay() == "1635892223.4459958/id-1/wf"


def test_context_callables_are_called_per_use() -> None:
    ticks = iter([1.0, 2.0])
    uuids = iter(["u1", "u2"])
    context = Context(now=lambda: next(ticks), uuid4=lambda: next(uuids), random=lambda: 0.5)
    assert run("[sys.now(), sys.now(), uuid.generate(), uuid.generate()]", context=context) == [
        1.0,
        2.0,
        "u1",
        "u2",
    ]


@pytest.mark.parametrize(
    ("error", "idempotent", "non_idempotent"),
    [
        ({"code": 429, "tags": ["HttpError"]}, True, True),
        ({"code": 502, "tags": ["HttpError"]}, True, False),
        ({"code": 503, "tags": ["HttpError"]}, True, True),
        ({"code": 504, "tags": ["HttpError"]}, True, False),
        ({"code": 500, "tags": ["HttpError"]}, False, False),
        ({"code": 404, "tags": ["HttpError"]}, False, False),
        ({"tags": ["ConnectionError"]}, True, False),
        ({"tags": ["ConnectionFailedError"]}, True, True),
        ({"tags": ["TimeoutError"]}, True, False),
        ({"tags": ["KeyError", "LookupError"]}, False, False),
        ("a raised string", False, False),
        ({}, False, False),
    ],
)
def test_http_default_retry_predicates(error: Any, idempotent: bool, non_idempotent: bool) -> None:
    assert run("http.default_retry_predicate(e)", {"e": error}) is idempotent
    assert run("http.default_retry_predicate_non_idempotent(e)", {"e": error}) is non_idempotent


def test_retry_always_and_never() -> None:
    assert run("retry.always(e)", {"e": {"tags": []}}) is True
    assert run("retry.never(e)", {"e": {"tags": []}}) is False


def test_documented_retry_policies_are_named_values() -> None:
    default = run("http.default_retry")
    assert default == RetryPolicy(FunctionRef("http.default_retry_predicate"), 5, Backoff(1, 60, 1.25))
    assert default.as_map() == {
        "predicate": FunctionRef("http.default_retry_predicate"),
        "max_retries": 5,
        "backoff": {"initial_delay": 1, "max_delay": 60, "multiplier": 1.25},
    }
    non_idempotent = run("http.default_retry_non_idempotent")
    assert non_idempotent.predicate == FunctionRef("http.default_retry_predicate_non_idempotent")
    assert run("retry.default_backoff") == Backoff(1, 60, 1.25)
    # The interpreter calls a policy's predicate by name.
    assert call_function(default.predicate.name, [{"code": 503}], CONTEXT) is True
