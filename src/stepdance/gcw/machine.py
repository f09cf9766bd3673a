"""The Cloud Workflows interpreter: a pure transition function, with the ASL interpreter's contract.

::

    start(definition, info, input_text, now, env=None)   -> Step
    advance(definition, state, signal, now)              -> Step

``definition`` is what :func:`stepdance.gcw.syntax.parse` gives; the types in and out are those of
:mod:`stepdance.asl.protocol`, so the engine runs Workflows executions as it runs ASL ones: it appends
``Step.events`` to the history, stores ``Step.state`` (plain JSON, :mod:`.machine_state`) and carries out
``Step.commands`` (:mod:`.machine_calls` says what the HTTP and connector tasks carry and answer).
``input_text`` is the execution's argument as JSON text, given to ``main``'s one parameter. ``env`` holds the
deployment's user-defined environment variables (``sys.get_env``); they are kept in the snapshot.

Nothing here reads a clock or draws a random number: ``sys.now()`` is ``now``, ``uuid.generate()`` and the
built-in environment derive from the execution (:mod:`.machine_env`), so the same inputs give the same
step. The work is split by what it is about: the snapshot (:mod:`.machine_state`), variables
(:mod:`.machine_vars`), moving between steps (:mod:`.machine_flow`), one handler per step kind
(:mod:`.machine_steps`), calls (:mod:`.machine_calls`), try/retry/except (:mod:`.machine_retry`),
parallel steps (:mod:`.machine_parallel`), history events (:mod:`.machine_entries`).

The end of an execution: a value returned by ``main`` (or none, at its last step or ``next: end``) ends it
SUCCEEDED with that value as JSON text; an error nothing handles ends it FAILED with ``error`` the error
map's first tag (``"Error"`` when it has none, or is a raised string) and ``cause`` the error as JSON text;
``StopRequested`` cancels its tasks and timers and ends it ABORTED.

``RedriveRequested`` resumes a FAILED or ABORTED execution where its main thread stood: the step that
failed (in the subworkflow it failed in, if so) runs again, with the variables as they were then. The
work of branches is not kept: a parallel step that failed, or was running when the execution was stopped,
runs again whole.
"""

from __future__ import annotations

import json
import random
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from stepdance.asl.protocol import (
    CancelTask,
    CancelTimer,
    Command,
    ExecutionInfo,
    Finish,
    RedriveRequested,
    Signal,
    Step,
    StopRequested,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
)
from stepdance.gcw import machine_calls, machine_parallel, machine_retry, machine_steps
from stepdance.gcw import machine_entries as entries
from stepdance.gcw import machine_flow as flow
from stepdance.gcw.expr import Context
from stepdance.gcw.expr.stdlib import FUNCTIONS
from stepdance.gcw.machine_env import environment, nth_uuid
from stepdance.gcw.machine_state import MAIN, ExecState, Frame, Thread, copy_value
from stepdance.gcw.syntax import Workflows

__all__ = ["Run", "advance", "start"]


def start(
    definition: Workflows,
    info: ExecutionInfo,
    input_text: str,
    now: float,
    env: Mapping[str, str] | None = None,
) -> Step:
    """Begin an execution: ExecutionStarted, then run until every thread waits or the execution ends."""
    run = Run(definition, ExecState(info=info.to_json(), input_text=input_text, env=dict(env or {})), now)
    run.begin()
    return run.finish()


def advance(definition: Workflows, state: dict[str, Any], signal: Signal, now: float) -> Step:
    """Apply one signal. ``state`` is consumed: the returned Step carries the new snapshot."""
    st = ExecState.from_json(state)
    run = Run(definition, st, now)
    if st.status == "RUNNING" or isinstance(signal, RedriveRequested):
        run.apply(signal)
    return run.finish()


class Run:
    """One transition in progress: the snapshot being changed, the events and commands produced."""

    def __init__(self, definition: Workflows, st: ExecState, now: float) -> None:
        self.definition = definition
        self.index = flow.index_of(definition)
        self.st = st
        self.now = now
        self.events: list[dict[str, Any]] = []
        self.commands: list[Command] = []
        self.queue: deque[str] = deque()
        self.current: Thread | None = None  # the thread whose step is evaluating expressions
        self.env = environment(st.info, st.env)
        self._context: Context | None = None
        self._rng: random.Random | None = None

    # ------------------------------------------------------------------ lifecycle

    def begin(self) -> None:
        st = self.st
        self.emit(None, entries.execution_started(st.input_text, st.info["role_arn"]), prev=0)
        try:
            argument = json.loads(st.input_text) if st.input_text.strip() else None
        except ValueError as exc:
            self.fail_execution({"message": f"the argument is not JSON: {exc}", "tags": ["ValueError"]})
            return
        params = self.definition.main.params
        scope = {params[0].name: argument} if params else {}
        main = Thread(MAIN, [Frame("main", [scope], [{"k": "routine"}, flow.seq("main", "w")])], last=1)
        st.threads[MAIN] = main
        self.queue.append(MAIN)
        self.drain()

    def apply(self, signal: Signal) -> None:
        st = self.st
        if isinstance(signal, StopRequested):
            self.abort(signal.error, signal.cause)
        elif isinstance(signal, RedriveRequested):
            self.redrive()
        elif isinstance(signal, TaskSucceeded | TaskFailed):
            thread = st.threads.get(st.tasks.get(signal.task_id, ""))
            if thread is not None and (thread.wait or {}).get("task") == signal.task_id:
                machine_calls.task_finished(self, thread, signal)
        elif isinstance(signal, TimerFired):
            thread = st.threads.get(st.timers.pop(signal.timer_id, ""))
            if thread is not None:
                self._timer_fired(thread, signal.timer_id)
        self.drain()  # TaskStarted and TaskHeartbeat change nothing: Workflows has no heartbeats

    def _timer_fired(self, thread: Thread, timer_id: str) -> None:
        wait = thread.wait or {}
        if wait.get("on") == "task" and timer_id in wait.get("timers", []):
            machine_calls.task_timed_out(self, thread)
        elif wait.get("timer") == timer_id and wait.get("purpose") == "retry":
            machine_retry.retry_now(self, thread)
        elif wait.get("timer") == timer_id and wait.get("purpose") == "sleep":
            machine_calls.sleep_done(self, thread)

    def finish(self) -> Step:
        status: Any = self.st.status
        return Step(events=self.events, state=self.st.to_json(), commands=self.commands, status=status)

    def drain(self) -> None:
        while self.queue and self.st.status == "RUNNING":
            thread = self.st.threads.get(self.queue.popleft())
            if thread is not None and thread.wait is None:
                self.run_thread(thread)

    def run_thread(self, thread: Thread) -> None:
        """Run the thread's steps until it waits, ends, or the execution ends."""
        previous, self.current = self.current, thread
        try:
            while thread.wait is None and thread.frames and self.st.status == "RUNNING":
                if not thread.sync and self.st.threads.get(thread.id) is not thread:
                    break  # cancelled by a sibling's failure
                frame = thread.frames[-1]
                top = frame.ctl[-1]
                if top["k"] == "seq":
                    steps = self.index.block(top["o"], top["b"])
                    if top["i"] < len(steps):
                        machine_steps.execute(self, thread, steps[top["i"]])
                        continue
                    frame.ctl.pop()
                try:
                    if frame.ctl[-1]["k"] == "try":
                        machine_retry.block_done(self, thread)
                    else:
                        flow.block_done(self, thread)
                except flow.RAISING as exc:
                    self.unwind(thread, flow.error_value(exc))
        finally:
            self.current = previous

    # ------------------------------------------------------------------ events, commands, expressions

    def emit(self, thread: Thread | None, event: dict[str, Any], *, prev: int | None = None) -> int:
        event_id = self.st.next_id
        self.st.next_id += 1
        event["id"] = event_id
        event["previousEventId"] = (thread.last if thread else 0) if prev is None else prev
        event["timestamp"] = self.now
        self.events.append(event)
        if thread is not None:
            thread.last = event_id
        return event_id

    def command(self, command: Command) -> None:
        self.commands.append(command)

    def context(self) -> Context:
        """What expressions may observe besides variables; subworkflows are callable from them."""
        if self._context is None:
            functions: dict[str, Callable[[list[Any]], Any]] = {
                name: self._subworkflow_function(name) for name in self.definition if name not in FUNCTIONS
            }
            self._context = Context(
                now=lambda: self.now, uuid4=self._uuid, random=self._random, env=self.env, functions=functions
            )
        return self._context

    def _subworkflow_function(self, name: str) -> Callable[[list[Any]], Any]:
        def call(args: list[Any]) -> Any:
            assert self.current is not None
            return machine_calls.call_sync(self, self.current, name, args)

        return call

    def _uuid(self) -> str:
        self.st.uuids += 1
        return nth_uuid(self.st.info["execution_arn"], self.st.uuids)

    def _random(self) -> float:
        if self._rng is None:
            self._rng = random.Random(
                zlib.crc32(f"{self.st.info['execution_arn']}#{self.st.next_id}".encode())
            )
        return self._rng.random()

    # ------------------------------------------------------------------ threads ending

    def unwind(self, thread: Thread, error: Any) -> None:
        """``error`` was raised in ``thread``'s current step: up the stack to a try that takes it, or the
        thread fails (a branch ends, a call from an expression raises, the execution fails)."""
        # Where the main thread stood, to redrive from if nothing takes the error (a try may yet decline it).
        stood = copy_value(thread.to_json()) if thread.parent is None and not thread.sync else None
        while thread.frames:
            frame = thread.frames[-1]
            while frame.ctl:
                entry = frame.ctl[-1]
                if entry["k"] == "try" and entry["ph"] == "body":
                    try:
                        if machine_retry.handle(self, thread, frame, entry, error):
                            return
                    except flow.RAISING as exc:
                        error = flow.error_value(exc)
                flow.pop_entry(frame)
                if "e" in entry:
                    flow.close_record(
                        self, thread, frame.routine, entry, entries.FAILED, entries.exception(error)
                    )
            thread.frames.pop()
        if thread.sync:
            thread.outcome = ("raise", error)
        elif thread.parent is not None:
            machine_parallel.branch_ended(self, thread, True, error)
        else:
            self.st.failed_at = {"thread": stood}
            self.fail_execution(error)

    def thread_done(self, thread: Thread, value: Any) -> None:
        """The thread's bottom routine returned ``value``."""
        if thread.sync:
            thread.outcome = ("return", value)
        elif thread.parent is not None:
            machine_parallel.branch_ended(self, thread, False)
        else:
            text = entries.to_json(value)
            self.emit(thread, entries.execution_succeeded(text))
            self.close("SUCCEEDED", output=text)

    def stop_iterations(self, thread: Thread) -> None:
        machine_parallel.stop_iterations(self, thread)

    # ------------------------------------------------------------------ the execution's end

    def fail_execution(self, error: Any) -> None:
        tags = error.get("tags") if isinstance(error, dict) else None
        name = tags[0] if isinstance(tags, list) and tags and isinstance(tags[0], str) else "Error"
        cause = entries.to_json(error)
        self.emit(self.st.threads.get(MAIN), entries.failure("ExecutionFailed", name, cause))
        self.close("FAILED", error=name, cause=cause)

    def abort(self, error: str | None, cause: str | None) -> None:
        main = self.st.threads.get(MAIN)
        if main is not None:
            self.st.failed_at = {"thread": copy_value(main.to_json())}
            machine_parallel.drop_thread(self, MAIN)
        self.emit(main, entries.failure("ExecutionAborted", error, cause))
        self.close("ABORTED", error=error, cause=cause)

    def close(
        self, status: str, *, output: str | None = None, error: str | None = None, cause: str | None = None
    ) -> None:
        st = self.st
        for task_id in st.tasks:
            self.command(CancelTask(task_id))
        for timer_id in st.timers:
            self.command(CancelTimer(timer_id))
        st.tasks, st.timers, st.threads = {}, {}, {}
        st.status, st.output, st.error, st.cause = status, output, error, cause
        self.queue.clear()
        final: Any = status
        self.command(Finish(final, output=output, error=error, cause=cause))

    def redrive(self) -> None:
        st = self.st
        if st.status not in ("FAILED", "ABORTED") or st.failed_at is None:
            return
        thread = Thread.from_json(copy_value(st.failed_at["thread"]))
        thread.wait = None
        frame = thread.frames[-1]
        top = frame.ctl[-1]
        if top["k"] in ("par", "call"):  # the parallel step, or the call, runs again whole
            frame.ctl.pop()
        elif top["k"] == "try" and top["ph"] == "wait":  # the retry's back-off is over
            top.pop("sub", None)
            top["ph"] = "body"
            frame.ctl.append(flow.seq(top["p"], "t"))
        st.threads = {MAIN: thread}
        st.status, st.output, st.error, st.cause, st.failed_at = "RUNNING", None, None, None, None
        st.info["redrive_count"] = int(st.info.get("redrive_count", 0)) + 1
        details = {"redriveCount": st.info["redrive_count"]}
        self.emit(thread, {"type": "ExecutionRedriven", "executionRedrivenEventDetails": details})
        self.queue.append(MAIN)
