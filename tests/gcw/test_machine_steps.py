"""Each step kind on its own: assign, switch, next, steps, raise, return, calls that stay in the
interpreter, subworkflows; and what expressions may observe (time, ids, the environment)."""

from __future__ import annotations

import json
import uuid

import pytest

from stepdance.gcw.simulate import START
from tests.gcw.test_machine_support import logs, run, started


def test_assign_paths_copy_and_build_nested_maps() -> None:
    outcome = run(
        """
main:
  steps:
    - init:
        assign:
          - a: {items: [1, 2, 3]}
          - b: ${a}
          - a.items[0]: 10
          - a.extra.deep: true
          - key: "k"
          - m: {}
          - m[key + "1"]: ${a.items[0] + 1}
    - done:
        return: {a: "${a}", b: "${b}", m: "${m}"}
"""
    )
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == {
        "a": {"items": [10, 2, 3], "extra": {"deep": True}},
        "b": {"items": [1, 2, 3]},  # b got a copy: changing a does not change b
        "m": {"k1": 11},
    }
    [assign] = started(outcome, "ASSIGN")
    ended = next(e for e in outcome.events if e["type"] == "StepEntrySucceeded")
    assert ended["stepEntryDetails"]["variables"]["a.items[0]"] == "10"
    assert assign["path"] == "main.steps[0].init" and assign["line"] == 4


@pytest.mark.parametrize(
    ("target", "tag"),
    [("l[5]", "IndexError"), ("l.x", "TypeError"), ("nope.x", "KeyError"), ('l["a"]', "TypeError")],
)
def test_assign_to_a_bad_path_fails_with_the_right_tag(target: str, tag: str) -> None:
    outcome = run(f"- init:\n    assign:\n      - l: [1]\n      - '{target}': 1\n")
    assert outcome.status == "FAILED"
    assert outcome.error == tag
    assert tag in outcome.failure["tags"]


SWITCH = """
main:
  params: [n]
  steps:
    - pick:
        switch:
          - condition: ${n < 0}
            return: "negative"
          - condition: ${n == 0}
            next: zero
          - condition: ${n < 10}
            assign:
              - size: "small"
          - condition: ${n < 100}
            steps:
              - mid:
                  assign:
                    - size: "medium"
              - skip:
                  next: report
        next: big
    - big:
        assign:
          - size: "big"
    - report:
        return: ${size}
    - zero:
        return: "zero"
"""


@pytest.mark.parametrize(
    ("n", "expected"), [(-1, "negative"), (0, "zero"), (5, "big"), (50, "medium"), (500, "big")]
)
def test_switch_runs_the_first_condition_that_holds_then_the_switch_next(n: int, expected: str) -> None:
    # n=5: the assign runs, then the switch's own next (big) applies, as after any step
    outcome = run(SWITCH, n)
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == expected


def test_a_condition_must_be_a_boolean() -> None:
    outcome = run("- s:\n    switch:\n      - condition: ${1}\n        next: end\n")
    assert outcome.error == "TypeError"


def test_next_end_and_falling_off_the_end_give_null() -> None:
    assert run("- a:\n    next: end\n- b:\n    return: 1\n").result is None
    assert run("- a:\n    assign:\n      - x: 1\n").output == "null"


def test_raise_a_string_or_a_map_fails_the_execution_with_it() -> None:
    failed = run("- boom:\n    raise: 'out of luck'\n")
    assert (failed.status, failed.error, failed.failure) == ("FAILED", "Error", "out of luck")
    failed = run("- boom:\n    raise: {code: 55, message: nope, tags: [MyError, Other]}\n")
    assert failed.error == "MyError"
    assert failed.failure == {"code": 55, "message": "nope", "tags": ["MyError", "Other"]}
    [entry] = [e for e in failed.events if e["type"] == "StepEntryFailed"]
    assert json.loads(entry["stepEntryDetails"]["exception"]["payload"])["code"] == 55


SUBWORKFLOWS = """
main:
  params: [args]
  steps:
    - one:
        call: outer
        args: {x: "${args.x}"}
        result: r
    - two:
        assign:
          - via_expression: ${twice(21)}
    - done:
        return: [ "${r}", "${via_expression}" ]
outer:
  params: [x, y: 100]
  steps:
    - deeper:
        call: twice
        args: {n: "${x + y}"}
        result: d
    - back:
        return: ${d}
twice:
  params: [n]
  steps:
    - calc:
        return: ${n * 2}
"""


def test_subworkflows_bind_params_defaults_and_results_and_are_callable_in_expressions() -> None:
    outcome = run(SUBWORKFLOWS, {"x": 1})
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == [202, 42]
    routines = [e["routine"] for e in started(outcome)]
    assert routines == ["main", "outer", "twice", "outer", "main", "twice", "main"]
    assert started(outcome, "SUBWORKFLOW_CALL")[0]["step"] == "one"


def test_a_missing_argument_and_runaway_recursion_fail_as_documented() -> None:
    missing = run(
        "main:\n  steps:\n    - c:\n        return: ${f()}\nf:\n  params: [a]\n  steps:\n    - r:\n        return: 1\n"
    )
    assert missing.error == "TypeError"
    recursive = run(
        "main:\n  steps:\n    - c:\n        call: f\n        args: {n: 0}\n"
        "f:\n  params: [n]\n  steps:\n    - again:\n        call: f\n        args: {n: '${n + 1}'}\n"
    )
    assert recursive.error == "RecursionError"
    # main is the first routine on the stack: its call and 19 of f's; the 20th call of f is refused
    assert len(started(recursive, "SUBWORKFLOW_CALL")) == 20


def test_library_calls_run_in_place_and_sys_log_writes_an_event() -> None:
    outcome = run(
        """
- split:
    call: text.split
    args: {source: "a,b", separator: ","}
    result: parts
- log:
    call: sys.log
    args: {data: "${parts}", severity: INFO}
- done:
    return: ${parts}
"""
    )
    assert outcome.result == ["a", "b"]
    assert logs(outcome) == [["a", "b"]]
    assert [e["type"] for e in outcome.events].count("LogWritten") == 1
    assert started(outcome, "STD_LIB_CALL")[0]["step"] == "split"


def test_time_ids_and_environment_come_from_the_execution() -> None:
    text = """
- look:
    return:
      now: ${sys.now()}
      id: ${uuid.generate()}
      id2: ${uuid.generate()}
      execution: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}
      project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
      location: ${sys.get_env("GOOGLE_CLOUD_LOCATION")}
      mine: ${sys.get_env("MINE")}
"""
    first, second = run(text, env={"MINE": "yes"}), run(text, env={"MINE": "yes"})
    result = first.result
    assert result == second.result
    assert result["now"] == START
    assert uuid.UUID(result["id"]).version == 4 and result["id"] != result["id2"]
    assert (result["execution"], result["project"], result["location"]) == (
        "exec",
        "stepdance",
        "us-central1",
    )
    assert result["mine"] == "yes"


def test_bytes_live_in_variables_across_transitions_but_are_no_result() -> None:
    text = """
- make:
    assign:
      - raw: ${text.encode("héllo")}
- wait:
    call: sys.sleep
    args: {seconds: 1}
- use:
    return: ${text.decode(raw)}
"""
    outcome = run(text)
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == "héllo"
    assert run('- r:\n    return: ${text.encode("x")}\n').error == "TypeError"


def test_variables_past_512_kb_raise_resource_limit_error() -> None:
    text = """
- init:
    assign:
      - parts: ["%s"]
- grow:
    for:
      value: i
      range: [1, %d]
      steps:
        - double:
            assign:
              - parts: ${list.concat(parts, parts)}
"""
    assert run(text % ("x" * 1000, 9)).status == "SUCCEEDED"  # 512 strings of 1,000 bytes, just below
    outcome = run(text % ("x" * 1000, 10))
    assert outcome.error == "ResourceLimitError"
