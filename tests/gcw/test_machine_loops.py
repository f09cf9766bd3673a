"""``for``: over a list (with its index), a map's keys, an inclusive range; break, continue; loop scope."""

from __future__ import annotations

import json

import pytest

from stepdance.gcw.simulate import simulate
from tests.gcw.test_machine_support import example, run, started


def test_the_loops_example() -> None:
    outcome = simulate(example("loops"), json.dumps({"items": [{"price": 3}, {"price": 0}, {"price": 5}]}))
    assert outcome.status == "SUCCEEDED", outcome.cause
    # 3 + 5 over the items (the free one skipped), then 1..9 from the range
    assert outcome.result == {"total": 53, "report": {"apple": 6, "pear": 4, "fig": 14}}


def test_break_leaves_the_loop_and_continue_skips_the_rest_of_the_body() -> None:
    outcome = run(
        """
- init:
    assign:
      - seen: []
- loop:
    for:
      value: n
      index: i
      in: [1, 2, 3, 4, 5, 6]
      steps:
        - odd:
            switch:
              - condition: ${n % 2 == 1}
                next: continue
        - stop:
            switch:
              - condition: ${n > 4}
                next: break
        - keep:
            assign:
              - seen: ${list.concat(seen, [i, n])}
- done:
    return: ${seen}
"""
    )
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == [[1, 2], [3, 4]]
    iterations = [e["iteration"] for e in started(outcome, "FOR_ITERATION")]
    assert iterations == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("range: [1, 4]", [1, 2, 3, 4]),
        ("range: [3, 1]", []),
        ("range: ${[0, 2]}", [0, 1, 2]),
        ("range: [0.5, 2]", [0.5, 1.5]),
        ("in: ${m}", ["b", "a"]),  # a map: its keys
        ("in: []", []),
    ],
)
def test_what_a_loop_goes_through(source: str, expected: list[object]) -> None:
    outcome = run(
        f"""
- init:
    assign:
      - got: []
      - m: {{b: 1, a: 2}}
- loop:
    for:
      value: v
      {source}
      steps:
        - add:
            assign:
              - got: ${{list.concat(got, v)}}
- done:
    return: ${{got}}
"""
    )
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == expected


def test_loop_variables_and_variables_made_in_the_loop_do_not_outlive_it() -> None:
    text = """
- init:
    assign:
      - outer: 0
- loop:
    for:
      value: v
      in: [1, 2]
      steps:
        - inside:
            assign:
              - outer: ${outer + v}
              - local: ${v}
- after:
    return: ${%s}
"""
    assert run(text % "outer").result == 3
    for name in ("v", "local"):
        gone = run(text % name)
        assert gone.error == "KeyError", gone.cause


def test_nested_loops_and_a_jump_inside_the_body() -> None:
    outcome = run(
        """
- init:
    assign:
      - pairs: []
- rows:
    for:
      value: r
      range: [1, 2]
      steps:
        - cols:
            for:
              value: c
              in: ["a", "b"]
              steps:
                - first:
                    next: record
                - never:
                    raise: "skipped by the jump"
                - record:
                    assign:
                      - pairs: ${list.concat(pairs, string(r) + c)}
- done:
    return: ${pairs}
"""
    )
    assert outcome.result == ["1a", "1b", "2a", "2b"]


def test_a_loop_over_something_else_is_a_type_error() -> None:
    assert run(
        "- l:\n    for:\n      value: v\n      in: ${1}\n      steps:\n        - s:\n            next: end\n"
    ).error == ("TypeError")
