"""try/retry/except: back-off delays exactly as documented on the virtual clock, default and custom
policies and predicates, HTTP errors with their tags, timeouts, the except variable's scope."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepdance.asl.protocol import RETRY_TIMER, CancelTask, TaskFailed, TimerFired
from stepdance.gcw.simulate import START, TaskError, simulate
from tests.gcw.test_machine_support import Drive, example, logs, run, started


def _scheduled_at(outcome: Any) -> list[float]:
    return [e["timestamp"] - START for e in outcome.events if e["type"] == "TaskScheduled"]


def _failing(codes: list[int]) -> Any:
    """An endpoint answering with these codes in turn, then 200."""
    answers = iter(codes)

    def http(request: dict[str, Any]) -> Any:
        code = next(answers, 200)
        return {"code": code, "body": {"attempt_code": code}}

    return http


OWN_POLICY = """
- call:
    try:
      call: http.get
      args: {url: "https://example.com/flaky"}
      result: r
    retry:
      predicate: ${retry.always}
      max_retries: 5
      backoff:
        initial_delay: 1
        max_delay: 5
        multiplier: 2
    except:
      as: e
      steps:
        - gave_up:
            return: {gave_up: "${e}"}
- ok:
    return: ${r.body}
"""


def test_backoff_is_initial_times_multiplier_to_the_n_capped_at_max_delay() -> None:
    outcome = run(OWN_POLICY, http=_failing([503] * 10))
    assert _scheduled_at(outcome) == [0, 1, 3, 7, 12, 17]  # waits 1, 2, 4, then 5, 5
    error = outcome.result["gave_up"]
    assert (error["code"], error["tags"], error["body"]) == (503, ["HttpError"], {"attempt_code": 503})
    retries = started(outcome, "RETRY")
    assert [(r["retry"], r["delay"]) for r in retries] == [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (5, 5.0)]


def test_success_after_retries_goes_on() -> None:
    outcome = run(OWN_POLICY, http=_failing([500, 500]))
    assert outcome.result == {"attempt_code": 200}
    assert _scheduled_at(outcome) == [0, 1, 3]


def test_the_retry_wait_is_a_retry_timer() -> None:
    drive = Drive(OWN_POLICY)
    [task] = drive.tasks()
    error = {"code": 503, "message": "HTTP server responded with error code 503", "tags": ["HttpError"]}
    drive.send(TaskFailed(task.task_id, "HttpError", json.dumps(error)))
    [timer] = drive.timers()
    assert RETRY_TIMER in timer.timer_id and timer.due == START + 1
    drive.send(TimerFired(timer.timer_id), at=timer.due)
    assert [t.payload["url"] for t in drive.tasks()] == ["https://example.com/flaky"]


def test_the_default_policy_retries_what_its_predicate_names_only() -> None:
    text = """
- call:
    try:
      call: http.get
      args: {url: "https://example.com/x"}
      result: r
    retry: ${http.default_retry}
    except:
      as: e
      steps:
        - show:
            return: ${e}
- ok:
    return: ${r.code}
"""
    outcome = run(text, http=_failing([503, 429]))
    assert (outcome.result, _scheduled_at(outcome)) == (200, [0, 1, 2.25])  # 1, then 1 * 1.25
    server_error = run(text, http=_failing([500]))
    assert server_error.result["code"] == 500 and _scheduled_at(server_error) == [0]
    assert server_error.result["message"] == "HTTP server responded with error code 500"

    def refused(request: dict[str, Any]) -> Any:
        raise TaskError("ConnectionError", "connection reset")

    connection = run(text, http=refused)
    assert len(_scheduled_at(connection)) == 6  # 5 retries, then except
    assert connection.result == {"message": "connection reset", "tags": ["ConnectionError"]}


def test_a_custom_predicate_subworkflow_runs_as_a_function_and_may_log() -> None:
    outcome = simulate(example("retry"), http=_failing([503, 200, 404]))
    # read_item: 503, retried by the default policy, then 200; read_other: 404, which my_own_predicate
    # declines (it retries 202 only), so except runs
    assert outcome.result == "Sorry, URL wasn't found."
    predicate_steps = [e for e in started(outcome) if e["routine"] == "my_own_predicate"]
    assert [e["step"] for e in predicate_steps] == ["what_to_repeat", "otherwise"]
    assert all(e["thread"] == "t0~my_own_predicate" for e in predicate_steps)
    assert _scheduled_at(outcome) == [0, 1, 1]

    logged = run(
        """
main:
  steps:
    - call:
        try:
          call: http.get
          args: {url: "https://example.com"}
        retry:
          predicate: ${noisy}
          max_retries: 1
          backoff: {initial_delay: 1, max_delay: 1, multiplier: 1}
noisy:
  params: [e]
  steps:
    - log:
        call: sys.log
        args: {data: "${e.code}"}
    - yes:
        return: true
""",
        http=_failing([500]),
    )
    assert logs(logged) == [500]


@pytest.mark.parametrize("verdict", ['"yes"', "null"])
def test_a_predicate_must_return_a_boolean(verdict: str) -> None:
    outcome = run(
        f"""
main:
  steps:
    - call:
        try:
          call: http.get
          args: {{url: "https://example.com"}}
        retry:
          predicate: ${{odd}}
          max_retries: 1
          backoff: {{initial_delay: 1, max_delay: 1, multiplier: 1}}
odd:
  params: [e]
  steps:
    - say:
        return: {verdict}
""",
        http=_failing([500]),
    )
    assert outcome.error == "TypeError"


def test_except_catches_an_http_500_and_what_it_creates_lives_only_there() -> None:
    text = """
- init:
    assign:
      - code: 0
- call:
    try:
      call: http.post
      args: {url: "https://example.com/charge", body: {amount: 5}}
    except:
      as: e
      steps:
        - keep:
            assign:
              - code: ${e.code}
              - seen: ${e.tags}
- after:
    return: %s
"""
    outcome = run(text % "${code}", http=_failing([500]))
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == 500  # code existed before: the except block changed it
    for local in ("${e}", "${seen}"):
        assert run(text % local, http=_failing([500])).error == "KeyError"
    [except_entry] = started(outcome, "EXCEPT")
    assert json.loads(except_entry["exception"]["payload"])["tags"] == ["HttpError"]


def test_a_retried_block_of_steps_runs_again_from_its_start() -> None:
    outcome = run(
        """
- init:
    assign:
      - tries: 0
- block:
    try:
      steps:
        - count:
            assign:
              - tries: ${tries + 1}
        - fail_twice:
            switch:
              - condition: ${tries < 3}
                raise: {message: "again", tags: ["Flaky"]}
    retry:
      predicate: ${retry.always}
      max_retries: 3
      backoff: {initial_delay: 2, max_delay: 10, multiplier: 3}
- done:
    return: ${tries}
"""
    )
    assert outcome.result == 3
    assert outcome.events[-1]["timestamp"] - START == 2 + 6


def test_a_request_without_an_answer_times_out() -> None:
    drive = Drive(
        """
- call:
    try:
      call: http.get
      args: {url: "https://example.com/slow", timeout: 10}
    except:
      as: e
      steps:
        - show:
            return: ${e}
"""
    )
    [task] = drive.tasks()
    assert task.timeout_seconds == 10 and task.payload["timeout"] == 10
    [timer] = drive.timers()
    step = drive.send(TimerFired(timer.timer_id), at=timer.due)
    assert CancelTask(task.task_id) in step.commands
    assert step.status == "SUCCEEDED"
    assert json.loads(step.state["output"])["tags"] == ["TimeoutError"]
    assert "TaskTimedOut" in [e["type"] for e in drive.events]
