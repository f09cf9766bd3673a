"""What a call becomes for the runtime: the HTTP and connector task contract, timers for sleeps, and the
calls stepdance does not perform."""

from __future__ import annotations

import json

import pytest

from stepdance.asl.protocol import InvokeTask, TaskSucceeded, TimerFired
from stepdance.gcw.simulate import START
from tests.gcw.test_machine_support import Drive, run, started


def test_an_http_request_is_an_http_task_with_the_documented_payload() -> None:
    drive = Drive(
        """
- send:
    call: http.request
    args:
      method: put
      url: https://example.com/items/1
      headers: {X-Trace: abc}
      query: {dry: "true"}
      body: ${text.encode("raw")}
      auth: {type: OIDC}
    result: answer
- done:
    return: ${answer}
"""
    )
    [task] = drive.tasks()
    assert (task.kind, task.resource, task.timeout_seconds, task.state_name) == (
        "http",
        "http.request",
        300,
        "send",
    )
    assert task.payload == {
        "method": "PUT",
        "url": "https://example.com/items/1",
        "headers": {"X-Trace": "abc"},
        "query": {"dry": "true"},
        "timeout": 300.0,
        "auth": {"type": "OIDC"},
        "body": "cmF3",  # bytes travel as base64 text
    }
    [timer] = drive.timers()
    assert (timer.timer_id, timer.due) == (f"{task.task_id}#timeout", START + 300)
    scheduled = next(e for e in drive.events if e["type"] == "TaskScheduled")
    assert str(scheduled["id"]) == task.task_id
    assert json.loads(scheduled["taskScheduledEventDetails"]["parameters"]) == task.payload
    answer = {"code": 201, "headers": {"Location": "/items/1"}, "body": {"id": 1}}
    done = drive.send(TaskSucceeded(task.task_id, json.dumps(answer)))
    assert json.loads(done.state["output"]) == {
        "body": {"id": 1},
        "code": 201,
        "headers": {"Location": "/items/1"},
    }


def test_a_connector_is_a_handler_task_named_after_it() -> None:
    drive = Drive(
        """
- publish:
    call: googleapis.pubsub.v1.projects.topics.publish
    args:
      topic: projects/p/topics/t
      body: {messages: [{data: "${base64.encode(text.encode(\\"hi\\"))}"}]}
    result: sent
- done:
    return: ${sent}
"""
    )
    [task] = drive.tasks()
    assert task == InvokeTask(
        task.task_id,
        "handler",
        "googleapis.pubsub.v1.projects.topics.publish",
        {"topic": "projects/p/topics/t", "body": {"messages": [{"data": "aGk="}]}},
        state_name="publish",
    )
    done = drive.send(TaskSucceeded(task.task_id, json.dumps({"messageIds": ["7"]})))
    assert json.loads(done.state["output"]) == {"messageIds": ["7"]}


def test_sleep_and_sleep_until_are_timers() -> None:
    drive = Drive(
        '- nap:\n    call: sys.sleep\n    args: {seconds: 2.5}\n- until:\n    call: sys.sleep_until\n    args: {time: "2026-01-01T00:01:00Z"}\n'
    )
    [first] = drive.timers()
    assert first.due == START + 2.5
    drive.send(TimerFired(first.timer_id), at=first.due)
    [second] = drive.timers()
    assert second.due == START + 60
    assert drive.send(TimerFired(second.timer_id), at=second.due).status == "SUCCEEDED"
    past = run('- until:\n    call: sys.sleep_until\n    args: {time: "2020-01-01T00:00:00Z"}\n')
    assert past.status == "SUCCEEDED" and past.steps == 2  # a time gone by waits for nothing (zero seconds)


@pytest.mark.parametrize(
    ("call", "tag"),
    [
        ("call: sys.sleep\n    args: {seconds: -1}", "ValueError"),
        ("call: sys.sleep\n    args: {seconds: '1'}", "TypeError"),
        ("call: http.get\n    args: {url: 5}", "TypeError"),
        ("call: http.get\n    args: {url: 'https://x', timeout: 3600}", "ValueError"),
        ("call: events.await_callback\n    args: {callback: {}}", "SystemError"),
        ("call: text.split\n    args: {source: a}", "TypeError"),  # separator is required
    ],
)
def test_bad_calls_fail_with_their_tag(call: str, tag: str) -> None:
    assert run(f"- c:\n    {call}\n").error == tag


def test_nested_steps_run_in_order_and_may_jump_out() -> None:
    outcome = run(
        """
- group:
    steps:
      - first:
          assign:
            - trail: ["first"]
      - leave:
          next: outside
      - never:
          raise: "not reached"
- skipped:
    raise: "not reached either"
- outside:
    return: ${list.concat(trail, "outside")}
"""
    )
    assert outcome.result == ["first", "outside"]
    assert [(e["step"], e["stepType"]) for e in started(outcome)] == [
        ("group", "STEPS"),
        ("first", "ASSIGN"),
        ("leave", "GOTO"),
        ("outside", "RETURN"),
    ]
