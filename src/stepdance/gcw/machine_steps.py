"""One function per step kind. Each gets the step and its just-opened step entry (``rec``), and either
ends the entry and goes on (:func:`.machine_flow.complete`), or hands the entry to a construct on the
control stack that ends it later (``for``, ``steps``, ``switch``, ``try``, a subworkflow ``call``, ``parallel``),
or leaves the thread waiting (a call that becomes a command). An error raised here fails the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from stepdance.gcw import machine_calls, machine_parallel, machine_retry
from stepdance.gcw import machine_entries as entries
from stepdance.gcw.expr import interpolate
from stepdance.gcw.expr.errors import resource_limit_error, type_error
from stepdance.gcw.expr.values import type_name
from stepdance.gcw.machine_flow import (
    RAISING,
    Raised,
    close_entry,
    complete,
    error_value,
    fail_step,
    follow,
    open_entry,
    routine_return,
    seq,
    start_for,
)
from stepdance.gcw.machine_state import Thread, copy_value
from stepdance.gcw.machine_vars import assign, check_memory, view
from stepdance.gcw.syntax import (
    Assign,
    Call,
    For,
    Next,
    Parallel,
    Raise,
    Return,
    Step,
    Steps,
    Switch,
    Try,
)

if TYPE_CHECKING:
    from stepdance.gcw.machine import Run

MAX_STEPS = 100_000  # steps per execution, Workflows' quotas page
Handler = Callable[["Run", Thread, Any, dict[str, Any]], None]


def execute(run: Run, thread: Thread, step: Step) -> None:
    """Run ``step``, the current step of the thread's innermost list."""
    run.st.steps += 1
    if run.st.steps > MAX_STEPS:
        run.unwind(thread, resource_limit_error(f"the execution ran more than {MAX_STEPS} steps").error)
        return
    rec = open_entry(run, thread, step)
    try:
        HANDLERS[type(step)](run, thread, step, rec)
    except RAISING as exc:
        fail_step(run, thread, rec, error_value(exc))


def assign_step(run: Run, thread: Thread, step: Assign, rec: dict[str, Any]) -> None:
    context = run.context()
    changed: dict[str, str] = {}
    for assignment in step.assignments:
        seen = view(run, thread)  # each assignment sees the ones before it
        value = copy_value(interpolate(assignment.value, seen, context))
        assign(run, thread, assignment.target, value, seen)
        changed[assignment.target] = entries.to_json(value)
    check_memory(thread.frames[-1])
    close_entry(run, thread, rec, entries.SUCCEEDED, variables=changed)
    complete(run, thread, step)


def switch_step(run: Run, thread: Thread, step: Switch, rec: dict[str, Any]) -> None:
    seen, context = view(run, thread), run.context()
    for at, branch in enumerate(step.branches):
        holds = branch.condition
        if not isinstance(holds, bool):
            holds = interpolate(holds, seen, context)
        if not isinstance(holds, bool):
            raise type_error(f"a switch condition must be a boolean, not {type_name(holds)}")
        if not holds:
            continue
        inline = branch.step
        if isinstance(inline, Next):  # only a jump: nothing runs in between
            close_entry(run, thread, rec, entries.SUCCEEDED, condition=at)
            follow(run, thread, inline.next if inline.next is not None else step.next)
            return
        rec.update(k="switch", c=at)
        frame = thread.frames[-1]
        frame.ctl.append(rec)
        frame.ctl.append(seq(step.path, f"c{at}"))
        return
    close_entry(run, thread, rec, entries.SUCCEEDED)
    complete(run, thread, step)


def for_step(run: Run, thread: Thread, step: For, rec: dict[str, Any]) -> None:
    start_for(run, thread, step, rec)


def steps_step(run: Run, thread: Thread, step: Steps, rec: dict[str, Any]) -> None:
    rec["k"] = "steps"
    frame = thread.frames[-1]
    frame.ctl.append(rec)
    frame.ctl.append(seq(step.path, "s"))


def next_step(run: Run, thread: Thread, step: Next, rec: dict[str, Any]) -> None:
    close_entry(run, thread, rec, entries.SUCCEEDED)
    complete(run, thread, step)


def raise_step(run: Run, thread: Thread, step: Raise, rec: dict[str, Any]) -> None:
    raise Raised(copy_value(interpolate(step.value, view(run, thread), run.context())))


def return_step(run: Run, thread: Thread, step: Return, rec: dict[str, Any]) -> None:
    value = copy_value(interpolate(step.value, view(run, thread), run.context()))
    if thread.parent is None and not thread.sync and len(thread.frames) == 1:
        _check_result(value)
    close_entry(run, thread, rec, entries.SUCCEEDED, output=entries.to_json(value))
    routine_return(run, thread, value)


def _check_result(value: Any) -> None:
    """The execution's result is JSON: bytes or a function cannot be it (as in Workflows)."""
    try:
        orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:
        raise type_error(
            "the workflow's result must be JSON: bytes and functions cannot be returned"
        ) from None


HANDLERS: dict[type, Handler] = {
    Assign: assign_step,
    Call: machine_calls.call_step,
    Switch: switch_step,
    For: for_step,
    Parallel: machine_parallel.parallel_step,
    Try: machine_retry.try_step,
    Raise: raise_step,
    Return: return_step,
    Steps: steps_step,
    Next: next_step,
}
