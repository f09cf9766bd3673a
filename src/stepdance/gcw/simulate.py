"""Run a Cloud Workflows execution to its end in memory, on a virtual clock: no database, no network.

::

    outcome = simulate(parse(text), '{"id": "o-1"}',
                       http=lambda request: {"code": 200, "body": {"ok": True}},
                       handlers={"googleapis.pubsub.v1.projects.topics.publish": publish},
                       env={"PAYMENTS_URL": "http://payments"})
    outcome.status, outcome.result, outcome.events

Timers (``sys.sleep``, retry back-offs, request timeouts) fire in due order by moving the clock forward;
tasks are answered at once by plain functions, as :mod:`stepdance.gcw.machine_calls` says the runtime
answers them: an ``http`` function gets the request payload and returns ``{"code", "headers", "body"}``
(``code`` 200 when left out; anything that is not such a map is the body of a 200), a code of 400 or more
fails the call with an HttpError; a connector's function gets its arguments and returns its result. Raise
:class:`TaskError` from either to fail the task with a Workflows error (a ConnectionError, say). Between
two transitions the snapshot goes through ``json.dumps``/``json.loads``, as the engine stores it, so a
snapshot that is not plain JSON fails here first. It shares nothing with the durable runtime but
:mod:`stepdance.gcw.machine`.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stepdance.asl.protocol import (
    CancelTask,
    CancelTimer,
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartTimer,
    Step,
    StopRequested,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
)
from stepdance.gcw import machine
from stepdance.gcw.syntax import Workflows

Http = Callable[[dict[str, Any]], Any]
Handler = Callable[[Any], Any]
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class TaskError(Exception):
    """Raise from a fake endpoint or connector: the task fails with the error map ``{"message": message,
    "tags": [tag], **fields}``."""

    def __init__(self, tag: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.tag = tag
        self.error = {"message": message, "tags": [tag], **fields}


@dataclass
class Outcome:
    status: str
    output: str | None
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]
    state: dict[str, Any] = field(repr=False)
    requests: list[dict[str, Any]] = field(default_factory=list, repr=False)  # HTTP payloads, in order
    steps: int = 0  # transitions taken

    @property
    def result(self) -> Any:
        return json.loads(self.output) if self.output is not None else None

    @property
    def failure(self) -> Any:
        """The error the execution failed with, as the workflow saw it."""
        return json.loads(self.cause) if self.cause is not None else None


def info_for(
    name: str = "exec", *, workflow: str = "wf", project: str = "stepdance", location: str = "us-central1"
) -> ExecutionInfo:
    parent = f"projects/{project}/locations/{location}/workflows/{workflow}"
    return ExecutionInfo(
        execution_arn=f"{parent}/executions/{name}",
        name=name,
        state_machine_arn=parent,
        state_machine_name=workflow,
        role_arn=f"projects/{project}/serviceAccounts/stepdance@{project}.iam.gserviceaccount.com",
        start_time="2026-01-01T00:00:00.000Z",
    )


def simulate(
    definition: Workflows,
    argument_json: str = "{}",
    *,
    http: Http | None = None,
    handlers: Mapping[str, Handler] | None = None,
    env: Mapping[str, str] | None = None,
    info: ExecutionInfo | None = None,
    now: float = START,
    stop_at: float | None = None,
    max_transitions: int = 100_000,
) -> Outcome:
    """Execute to the end; ``stop_at`` sends StopRequested when the clock would pass that time."""
    loop = _Loop(http, dict(handlers or {}))
    clock = now
    step: Step = machine.start(definition, info or info_for(), argument_json, clock, env)
    transitions = 1
    while transitions < max_transitions:
        loop.events.extend(step.events)
        loop.carry_out(step)
        if step.status != "RUNNING":
            break
        signal, due = loop.next_signal()
        if stop_at is not None and (signal is None or (due is not None and due > stop_at)):
            signal, due, stop_at = StopRequested(error="Stopped", cause="stop_at"), max(clock, stop_at), None
        if signal is None:
            break  # nothing left that could answer
        clock = max(clock, due if due is not None else clock)
        state = json.loads(json.dumps(step.state))  # as the engine stores it
        step = machine.advance(definition, state, signal, clock)
        transitions += 1
    st = step.state
    return Outcome(
        st["status"],
        st.get("output"),
        st.get("error"),
        st.get("cause"),
        loop.events,
        st,
        loop.requests,
        transitions,
    )


class _Loop:
    def __init__(self, http: Http | None, handlers: dict[str, Handler]) -> None:
        self.http = http
        self.handlers = handlers
        self.events: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.pending: list[Signal] = []
        self.timers: list[tuple[float, int, str]] = []
        self.live: dict[str, float] = {}
        self.order = 0

    def carry_out(self, step: Step) -> None:
        for command in step.commands:
            if isinstance(command, StartTimer):
                self.order += 1
                self.live[command.timer_id] = command.due
                heapq.heappush(self.timers, (command.due, self.order, command.timer_id))
            elif isinstance(command, CancelTimer):
                self.live.pop(command.timer_id, None)
            elif isinstance(command, InvokeTask):
                self.pending.append(self._invoke(command))
            elif isinstance(command, CancelTask):
                self.pending = [s for s in self.pending if getattr(s, "task_id", None) != command.task_id]

    def next_signal(self) -> tuple[Signal | None, float | None]:
        if self.pending:
            return self.pending.pop(0), None
        while self.timers:
            due, _, timer_id = heapq.heappop(self.timers)
            if self.live.get(timer_id) == due:
                del self.live[timer_id]
                return TimerFired(timer_id), due
        return None, None

    def _invoke(self, command: InvokeTask) -> Signal:
        task_id = command.task_id
        try:
            if command.kind == "http":
                self.requests.append(command.payload)
                if self.http is None:
                    raise TaskError("ConnectionFailedError", "no HTTP endpoint in this simulation")
                return _http_answer(task_id, self.http(command.payload))
            handler = self.handlers.get(command.resource)
            if handler is None:
                raise TaskError("SystemError", f"no handler registered for {command.resource}")
            return TaskSucceeded(task_id, json.dumps(handler(command.payload)))
        except TaskError as exc:
            return TaskFailed(task_id, exc.tag, json.dumps(exc.error))
        except Exception as exc:  # a fake's own bug fails the task, as a crashing service would
            return TaskFailed(task_id, type(exc).__name__, str(exc))


def _http_answer(task_id: str, answer: Any) -> Signal:
    if not (isinstance(answer, dict) and set(answer) <= {"code", "headers", "body"} and answer):
        answer = {"body": answer}
    response = {
        "code": answer.get("code", 200),
        "headers": answer.get("headers", {}),
        "body": answer.get("body"),
    }
    if response["code"] >= 400:
        message = f"HTTP server responded with error code {response['code']}"
        error = {**response, "message": message, "tags": ["HttpError"]}
        return TaskFailed(task_id, "HttpError", json.dumps(error))
    return TaskSucceeded(task_id, json.dumps(response))
