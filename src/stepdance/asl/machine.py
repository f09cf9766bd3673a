"""The interpreter: a pure transition function over an execution's state.

``start`` and ``advance`` take the definition, the current snapshot, one signal and the current time, and
return a :class:`~stepdance.asl.protocol.Step`: the history events to append, the new snapshot and the
commands to carry out. Nothing here touches a clock, a disk or a socket; randomness is seeded from the
execution and the event id, so the same inputs always give the same step.

The per-state work lives in :mod:`stepdance.asl.states` (one small module per state type); this module holds
what they share: emitting events, moving a frame from state to state, Retry and Catch, and finishing frames.
"""

from __future__ import annotations

import functools
import math
import random
import zlib
from collections import ChainMap, deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from stepdance.asl import dataflow, errors, history, states
from stepdance.asl.definition import Catcher, Definition, Machine, State
from stepdance.asl.errors import StatesError
from stepdance.asl.frames import ExecState, Frame
from stepdance.asl.protocol import (
    RETRY_TIMER,
    CancelTask,
    CancelTimer,
    Command,
    ExecutionInfo,
    Finish,
    Signal,
    StartTimer,
    Step,
    StopRequested,
    TimerFired,
)
from stepdance.asl.retry import next_delay
from stepdance.asl.scope import LazyRandom, Scope

MAX_PAYLOAD_BYTES = 262_144
MAX_HISTORY_EVENTS = 25_000
ROOT = "r"
_UNSET = object()
_RETRYABLE = frozenset({"Task", "Map", "Parallel"})
_CLOSING = frozenset({"ExecutionFailed", "ExecutionSucceeded", "ExecutionAborted", "ExecutionTimedOut"})


class _HistoryFull(Exception):
    """The next event would leave no room for the one that closes the execution."""


_NO_CONTEXT: Mapping[str, Any] = MappingProxyType({})


def iso(ts: float) -> str:
    """Epoch seconds as AWS prints context times: milliseconds and Z."""
    whole = math.floor(ts)
    if round((ts - whole) * 1_000_000) >= 1_000_000:  # datetime rounds to the microsecond
        whole += 1
    return _second(whole) + f".{int(ts * 1000) % 1000:03d}Z"


@functools.lru_cache(maxsize=64)
def _second(whole: int) -> str:
    # every step of one second shares this text; formatting a datetime per step showed in profiles
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def start(definition: Definition, info: ExecutionInfo, input_text: str, now: float) -> Step:
    """Begin an execution: ExecutionStarted, then run until every frame waits or the execution ends."""
    st = ExecState(info=info.to_json(), input_text=input_text)
    run = Run(definition, st, now)
    run.guarded(run.begin)
    return run.finish()


def advance(definition: Definition, state: dict[str, Any], signal: Signal, now: float) -> Step:
    """Apply one signal. ``state`` is consumed: the returned Step carries the new snapshot."""
    st = ExecState.from_json(state)
    run = Run(definition, st, now)
    if st.status == "RUNNING" or signal.__class__.__name__ == "RedriveRequested":
        run.guarded(lambda: run.apply(signal))
    return run.finish()


class Run:
    """One transition in progress: the snapshot being changed, the events and commands produced."""

    def __init__(self, definition: Definition, st: ExecState, now: float) -> None:
        self.definition = definition
        self.st = st
        self.now = now
        self.events: list[dict[str, Any]] = []
        self.commands: list[Command] = []
        self.queue: deque[str] = deque()
        self._input: Any = _UNSET
        self._contexts: dict[tuple[str, int, str | None, int], dict[str, Any]] = {}
        self._rng: random.Random | None = None
        self._machines: dict[str, Machine] = {}
        self.now_iso = iso(now)

    @property
    def execution_input(self) -> Any:
        """The execution's input as a value, decoded once per transition (``$$.Execution.Input``)."""
        if self._input is _UNSET:
            self._input = states.decode_input(self.st.input_text)
        return self._input

    # ------------------------------------------------------------------ lifecycle

    def begin(self) -> None:
        st = self.st
        self.emit(None, history.execution_started(st.input_text, st.info["role_arn"]), prev=0)
        if self.definition.timeout_seconds is not None:
            self.command(StartTimer("execution-timeout", self.now + self.definition.timeout_seconds))
        root = Frame(
            id=ROOT, path=[], state=self.definition.machine.start_at, input=states.decode_input(st.input_text)
        )
        st.frames[ROOT] = root
        self.enter(root, root.state, root.input, prev=0)
        self.drain()

    def apply(self, signal: Signal) -> None:
        if isinstance(signal, StopRequested):
            self.abort(signal.error, signal.cause)
        elif isinstance(signal, TimerFired) and signal.timer_id == "execution-timeout":
            self.time_out()
        elif signal.__class__.__name__ == "RedriveRequested":
            states.redrive(self)
        else:
            states.resume_signal(self, signal)
        self.drain()

    def finish(self) -> Step:
        status: Any = self.st.status
        return Step(events=self.events, state=self.st.to_json(), commands=self.commands, status=status)

    def drain(self) -> None:
        while self.queue and self.st.status == "RUNNING":
            frame = self.st.frames.get(self.queue.popleft())
            if frame is not None and frame.wait is None:
                states.run_frame(self, frame)

    def guarded(self, action: Callable[[], None]) -> None:
        """Run ``action``; an execution whose history fills up fails with its 25,000th event."""
        try:
            action()
        except _HistoryFull:
            self.fail_execution(
                errors.RUNTIME,
                f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS}).",
            )

    # ------------------------------------------------------------------ events and commands

    def emit(
        self, frame: Frame | None, event: dict[str, Any], *, prev: int | None = None, advance: bool = True
    ) -> int:
        event_id = self.st.next_id
        if event_id >= MAX_HISTORY_EVENTS and event["type"] not in _CLOSING:
            raise _HistoryFull
        self.st.next_id += 1
        event["id"] = event_id
        event["previousEventId"] = (frame.last if frame else 0) if prev is None else prev
        event["timestamp"] = self.now
        self.events.append(event)
        if frame is not None and advance:
            frame.last = event_id
        return event_id

    def command(self, command: Command) -> None:
        self.commands.append(command)

    # ------------------------------------------------------------------ lookups

    def machine_of(self, frame: Frame) -> Machine:
        """The (sub-)machine a frame runs; resolved once per frame and transition."""
        machine = self._machines.get(frame.id)
        if machine is None:
            machine = self.definition.machine
            for state_name, branch in frame.path:
                machine = machine.states[state_name].branches[branch]
            self._machines[frame.id] = machine
        return machine

    def state_of(self, frame: Frame) -> State:
        return self.machine_of(frame).states[frame.state]

    def variables(self, frame: Frame) -> Mapping[str, Any]:
        """The variables visible in a frame: its own over its ancestors' (children read but never write)."""
        scopes = [frame.variables]
        parent = frame.parent
        while parent is not None:
            outer = self.st.frames[parent]
            scopes.append(outer.variables)
            parent = outer.parent
        return scopes[0] if len(scopes) == 1 else ChainMap(*scopes)

    def context(self, frame: Frame, *, token: str | None = None) -> dict[str, Any]:
        """The context object ``$$`` of the frame's current state (built once per state and transition;
        callers must not change it)."""
        key = (frame.id, frame.entered_id, token, sum(frame.retry_counts.values()))
        cached = self._contexts.get(key)
        if cached is None:
            cached = self._contexts[key] = self._build_context(frame, token)
        return cached

    def _build_context(self, frame: Frame, token: str | None) -> dict[str, Any]:
        info = self.st.info
        ctx: dict[str, Any] = {
            "Execution": {
                "Id": info["execution_arn"],
                "Input": self.execution_input,
                "Name": info["name"],
                "RoleArn": info["role_arn"],
                "StartTime": info["start_time"],
                "RedriveCount": info["redrive_count"],
            },
            "State": {"EnteredTime": frame.entered_time, "Name": frame.state},
            "StateMachine": {"Id": info["state_machine_arn"], "Name": info["state_machine_name"]},
        }
        if self.state_of(frame).type in _RETRYABLE:
            # Only states that can retry carry RetryCount (AWS omits it for Pass, Choice, ...).
            ctx["State"]["RetryCount"] = sum(frame.retry_counts.values())
        if token is not None:
            ctx["Task"] = {"Token": token}
        # $$.Map.Item is only visible to the Map's ItemSelector (map_state adds it there), as AWS documents.
        return ctx

    def rng(self) -> random.Random:
        """One seeded source per transition: the same signal on the same snapshot draws the same numbers."""
        if self._rng is None:
            seed = zlib.crc32(f"{self.st.info['execution_arn']}#{self.st.next_id}".encode())
            self._rng = LazyRandom(seed)
        return self._rng

    def scope(self, frame: Frame, **context: Any) -> Scope:
        # The context object is built only for a state whose expressions may read it (most never do).
        uses = self.state_of(frame).uses_context
        return Scope(
            context=self.context(frame, **context) if uses else _NO_CONTEXT,
            variables=self.variables(frame),
            random=self.rng(),
        )

    # ------------------------------------------------------------------ moving between states

    def enter(self, frame: Frame, state_name: str, state_input: Any, *, prev: int | None = None) -> None:
        """Emit StateEntered for ``state_name`` and queue the frame to run it."""
        frame.state = state_name
        frame.input = state_input
        frame.retry_counts = {}
        frame.work = {}
        frame.wait = None
        frame.entered_time = self.now_iso
        state = self.state_of(frame)
        frame.entered_prev = frame.last if prev is None else prev
        frame.entered_id = self.emit(
            frame, history.state_entered(state.type, state_name, state_input), prev=prev
        )
        self.queue.append(frame.id)

    def exit_state(
        self, frame: Frame, output: Any, assigned: dict[str, Any] | None = None, next_state: str | None = None
    ) -> None:
        """Leave the current state with ``output``: StateExited, then the next state or the frame's end."""
        state = self.state_of(frame)
        text = history.to_json(output)
        self.check_size(text, state.name)
        if assigned:
            frame.variables.update(assigned)
        self.emit(frame, history.state_exited(state.type, state.name, text, assigned))
        # A Catch or a Choice names the next state itself, even on a state that would otherwise end.
        target = next_state if next_state is not None else (None if state.end else state.next)
        if target is not None:
            self.enter(frame, target, output)
        else:
            self.end_frame(frame, output)

    def check_size(self, text: str, state_name: str) -> None:
        """A payload (as JSON text) over AWS's 256 KiB limit fails with States.DataLimitExceeded."""
        if len(text) > MAX_PAYLOAD_BYTES // 4 and len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise StatesError(
                errors.DATA_LIMIT_EXCEEDED,
                f"The state/task '{state_name}' returned a result with a size exceeding the maximum number "
                "of bytes service limit.",
            )

    def end_frame(self, frame: Frame, output: Any) -> None:
        if frame.parent is None:
            self.succeed_execution(output)
        else:
            del self.st.frames[frame.id]
            states.child_succeeded(self, frame, output)

    def fail_frame(self, frame: Frame, error: str | None, cause: str | None) -> None:
        if frame.parent is None:
            self.st.failed_at = {"frame": frame.to_json()}
            self.fail_execution(error, cause, prev=frame.last)
        else:
            self.drop_frame(frame)
            states.child_failed(self, frame, error, cause)

    def drop_frame(self, frame: Frame) -> None:
        """Forget a frame and everything it waits on (its own children included)."""
        self.st.frames.pop(frame.id, None)
        for task_id, owner in list(self.st.tasks.items()):
            if owner == frame.id:
                del self.st.tasks[task_id]
                self.command(CancelTask(task_id))
        for timer_id, owner in list(self.st.timers.items()):
            if owner == frame.id:
                del self.st.timers[timer_id]
                self.command(CancelTimer(timer_id))
        self.drop_children(frame)

    def drop_children(self, frame: Frame) -> None:
        """Stop every branch or iteration a Parallel or Map frame still runs."""
        for child in [f for f in self.st.frames.values() if f.parent == frame.id]:
            self.drop_frame(child)

    # ------------------------------------------------------------------ failures

    def state_failed(self, frame: Frame, error: str | None, cause: str | None, *, retry: bool = True) -> None:
        """A state failed: retry it if a retrier matches, else catch, else fail the frame."""
        state = self.state_of(frame)
        # A failure without an error name (a Fail state with no Error) is only matched by States.ALL.
        name = error if error is not None else ""
        if retry and self.schedule_retry(frame, state, name):
            return
        states.failed_event(self, frame, state, error)
        catcher = next((c for c in state.catchers if errors.matches(list(c.error_equals), name)), None)
        if catcher is None:
            self.fail_frame(frame, error, cause)
            return
        try:
            output, assigned = self.catch_output(frame, state, catcher, error, cause)
        except StatesError as exc:
            self.fail_frame(frame, exc.error, exc.cause)
            return
        self.exit_state(frame, output, assigned, next_state=catcher.next)

    def schedule_retry(self, frame: Frame, state: State, error: str) -> bool:

        for index, retrier in enumerate(state.retriers):
            if not errors.matches(list(retrier.error_equals), error):
                continue
            attempts = frame.retry_counts.get(str(index), 0)
            if attempts >= retrier.max_attempts:
                return False
            frame.retry_counts[str(index)] = attempts + 1
            delay = next_delay(retrier, attempts, self.rng())
            timer_id = f"{frame.id}#{frame.entered_id}{RETRY_TIMER}{index}.{attempts}"
            frame.wait = {"on": "timer", "timers": [timer_id], "purpose": "retry"}
            self.st.timers[timer_id] = frame.id
            self.command(StartTimer(timer_id, self.now + delay))
            return True
        return False

    def catch_output(
        self, frame: Frame, state: State, catcher: Catcher, error: str | None, cause: str | None
    ) -> tuple[Any, dict[str, Any] | None]:

        error_output: dict[str, Any] = {}
        if error is not None:
            error_output["Error"] = error
        if cause is not None:
            error_output["Cause"] = cause
        return dataflow.catch_output(self, frame, state, catcher, error_output)

    def fail_with(self, frame: Frame, exc: StatesError) -> None:
        """A StatesError raised while running a state: add AWS's prefix, record evaluation failures."""
        state = self.state_of(frame)
        cause = exc.cause
        if exc.error in (errors.RUNTIME, errors.QUERY_EVALUATION_ERROR) and cause is not None:
            cause = (
                f"An error occurred while executing the state '{state.name}' "
                f"(entered at the event id #{frame.entered_id}). {cause}"
            )
        if exc.error == errors.QUERY_EVALUATION_ERROR:
            prev = frame.entered_id if state.type == "Wait" else frame.entered_prev
            frame.last = self.emit(
                frame, history.evaluation_failed(exc.error, cause, state.name, exc.location), prev=prev
            )
        self.state_failed(frame, exc.error, cause, retry=exc.error not in errors.NOT_MATCHED_BY_ALL)

    # ------------------------------------------------------------------ the execution's end

    def succeed_execution(self, output: Any) -> None:
        text = history.to_json(output)
        self.emit(self.st.frames[ROOT], history.execution_succeeded(text))
        self.close("SUCCEEDED", output=text)

    def fail_execution(self, error: str | None, cause: str | None, *, prev: int | None = None) -> None:
        root = self.st.frames.get(ROOT)
        self.emit(root, history.failure("ExecutionFailed", error, cause), prev=prev)
        self.close("FAILED", error=error, cause=cause)

    def abort(self, error: str | None, cause: str | None) -> None:
        # An aborted execution can be redriven from where it stood, as a failed one can.
        self.st.failed_at = {"frame": self.st.frames[ROOT].to_json()} if ROOT in self.st.frames else None
        self.emit(self.st.frames.get(ROOT), history.failure("ExecutionAborted", error, cause))
        self.close("ABORTED", error=error, cause=cause)

    def time_out(self) -> None:
        self.st.failed_at = {"frame": self.st.frames[ROOT].to_json()} if ROOT in self.st.frames else None
        self.emit(self.st.frames.get(ROOT), history.failure("ExecutionTimedOut", errors.TIMEOUT, None))
        self.close("TIMED_OUT", error=errors.TIMEOUT)

    def close(
        self, status: str, *, output: str | None = None, error: str | None = None, cause: str | None = None
    ) -> None:
        st = self.st
        for task_id in st.tasks:
            self.command(CancelTask(task_id))
        for timer_id in st.timers:
            self.command(CancelTimer(timer_id))
        if self.definition.timeout_seconds is not None:
            self.command(CancelTimer("execution-timeout"))
        st.tasks, st.timers = {}, {}
        st.frames = {k: f for k, f in st.frames.items() if k == ROOT}
        st.status, st.output, st.error, st.cause = status, output, error, cause
        self.queue.clear()
        final: Any = status
        self.command(Finish(final, output=output, error=error, cause=cause))
