"""Moving through the steps: which list a ``seq`` runs, what comes after a step, jumps, loops, returns.

A ``seq`` entry names its list of steps by owner and block (see :mod:`.machine_state`):

======  ===========================================================
``w``   the steps of the routine named by the owner
``s``   a ``steps`` step's list, a ``for`` body (a parallel ``for`` too)
``t``   a ``try``'s body, as a list of one (inline) step
``e``   a ``try``'s ``except`` steps
``cN``  the inline step of a switch's condition N, as a list of one
``bN``  parallel branch N
======  ===========================================================

After a step, its ``next`` decides: nothing goes on with the step after it in its list (running off the
end finishes what owns the list), ``end`` ends the routine, ``break``/``continue`` leave or go on with the
innermost loop, and a name jumps to that step in the list or in one around it (never into nested steps, and
not out of a ``for`` body or a branch, which the syntax checks). An inline step (a condition's body, a
``try``'s) without a ``next`` of its own goes on as its owner's ``next`` says.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from stepdance.gcw import machine_entries as entries
from stepdance.gcw.expr import Context, interpolate
from stepdance.gcw.expr.errors import ExprSyntaxError, WorkflowsError, type_error
from stepdance.gcw.expr.values import is_number, type_name
from stepdance.gcw.machine_state import Frame, Thread, copy_value
from stepdance.gcw.machine_vars import assign, check_memory, view
from stepdance.gcw.syntax import For, Parallel, Step, Steps, Switch, Try, Workflows, walk

if TYPE_CHECKING:
    from stepdance.gcw.machine import Run

CLOSED = frozenset({"for", "branch", "routine"})  # what a jump cannot leave


class Raised(Exception):
    """A Workflows error on its way up: ``value`` is what ``except: as:`` binds (a map, or what was
    raised: a string, a map...)."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


RAISING = (Raised, WorkflowsError, ExprSyntaxError)


def error_value(exc: Exception) -> Any:
    """The error an ``except`` sees for any of :data:`RAISING`. A malformed expression is a deploy error
    in Workflows; here it surfaces when the step runs, tagged SyntaxError."""
    if isinstance(exc, Raised):
        return exc.value
    if isinstance(exc, WorkflowsError):
        return exc.error
    return {"message": f"invalid expression: {exc}", "tags": ["SyntaxError"]}


# --------------------------------------------------------------------------- the definition's index


class Index:
    """Every step of a definition by its path, and each list of steps by (owner, block)."""

    def __init__(self, definition: Workflows) -> None:
        self.definition = definition
        self.steps: dict[str, Step] = {}
        for workflow in definition.values():
            for step in walk(workflow.steps):
                if step.path in self.steps:
                    raise ValueError(f"two steps share the path {step.path!r}")
                self.steps[step.path] = step
        self._blocks: dict[tuple[str, str], tuple[Step, ...]] = {}

    def block(self, owner: str, block: str) -> tuple[Step, ...]:
        key = (owner, block)
        found = self._blocks.get(key)
        if found is None:
            found = self._blocks[key] = self._resolve(owner, block)
        return found

    def _resolve(self, owner: str, block: str) -> tuple[Step, ...]:
        if block == "w":
            return self.definition[owner].steps
        step = self.steps[owner]
        if block == "s" and isinstance(step, Steps | For):
            return step.steps
        if block == "t" and isinstance(step, Try):
            return (step.body,)
        if block == "e" and isinstance(step, Try) and step.except_ is not None:
            return step.except_.steps
        if block.startswith("c") and isinstance(step, Switch):
            return (step.branches[int(block[1:])].step,)
        if block.startswith("b") and isinstance(step, Parallel):
            return step.branches[int(block[1:])].steps
        raise ValueError(f"{owner!r} has no block {block!r}")


_INDEXES: dict[int, Index] = {}


def index_of(definition: Workflows) -> Index:
    """The index of ``definition``, built once (a handful are kept: one per deployed revision in use)."""
    found = _INDEXES.get(id(definition))
    if found is None or found.definition is not definition:
        if len(_INDEXES) >= 64:
            _INDEXES.pop(next(iter(_INDEXES)))
        found = _INDEXES[id(definition)] = Index(definition)
    return found


def seq(owner: str, block: str) -> dict[str, Any]:
    return {"k": "seq", "o": owner, "b": block, "i": 0}


# --------------------------------------------------------------------------- step entries


def open_entry(
    run: Run, thread: Thread, step: Step, step_type: str | None = None, **extra: Any
) -> dict[str, Any]:
    kind = step_type or entries.step_type(step, run.definition)
    return open_record(run, thread, kind, step.name, step.path, step.line, **extra)


def open_record(
    run: Run, thread: Thread, step_type: str, name: str, path: str, line: int, **extra: Any
) -> dict[str, Any]:
    run.st.entries += 1
    rec = entries.record(run.st.entries, step_type, name, path, line)
    run.emit(thread, entries.started(thread.frames[-1].routine, rec, thread.id, extra))
    return rec


def close_entry(run: Run, thread: Thread, rec: dict[str, Any], state: str, **extra: Any) -> None:
    close_record(run, thread, thread.frames[-1].routine, rec, state, extra)


def close_record(
    run: Run, thread: Thread, routine: str, rec: dict[str, Any], state: str, extra: dict[str, Any]
) -> None:
    sub = rec.pop("sub", None)
    if sub is not None:  # an iteration, a retry's wait or an except block, inside the entry
        close_record(run, thread, routine, sub, state, extra)
    rec["closed"] = True
    run.emit(thread, entries.ended(routine, rec, state, thread.id, extra))


def fail_step(run: Run, thread: Thread, rec: dict[str, Any], error: Any) -> None:
    """The step of ``rec`` failed with ``error``: end its entry (unless a construct holding it will) and
    send the error up."""
    if not rec.get("closed") and not _held(thread, rec):
        close_entry(run, thread, rec, entries.FAILED, **entries.exception(error))
    run.unwind(thread, error)


def _held(thread: Thread, rec: dict[str, Any]) -> bool:
    return any(entry is rec for frame in thread.frames for entry in frame.ctl)


# --------------------------------------------------------------------------- the control stack


def pop_entry(frame: Frame) -> dict[str, Any]:
    entry = frame.ctl.pop()
    if "sc" in entry:  # the scope of a loop or an except block goes with it
        del frame.scopes[entry["sc"] :]
    return entry


def leave(run: Run, thread: Thread, keep: int, state: str = entries.SUCCEEDED, **extra: Any) -> None:
    """Pop the frame's control stack down to ``keep`` entries, ending the entries of what is left."""
    frame = thread.frames[-1]
    while len(frame.ctl) > keep:
        entry = pop_entry(frame)
        if "e" in entry:
            close_record(run, thread, frame.routine, entry, state, extra)


def complete(run: Run, thread: Thread, step: Step) -> None:
    follow(run, thread, step.next)


def follow(run: Run, thread: Thread, target: str | None) -> None:
    """Go on after the current step of the innermost ``seq`` as ``target`` (a step's ``next``) says."""
    if target is None:
        thread.frames[-1].ctl[-1]["i"] += 1
    elif target == "end":
        routine_return(run, thread, None)
    elif target in ("break", "continue"):
        loop_control(run, thread, target)
    else:
        jump(run, thread, target)


def jump(run: Run, thread: Thread, name: str) -> None:
    frame = thread.frames[-1]
    for depth in range(len(frame.ctl) - 1, -1, -1):
        entry = frame.ctl[depth]
        if entry["k"] == "seq":
            steps = run.index.block(entry["o"], entry["b"])
            for at, step in enumerate(steps):
                if step.name == name and not step.inline:
                    leave(run, thread, depth + 1)
                    entry["i"] = at
                    return
        elif entry["k"] in CLOSED:
            break
    raise type_error(f"next: no step named {name!r} can be reached from here")


def loop_control(run: Run, thread: Thread, which: str) -> None:
    frame = thread.frames[-1]
    for depth in range(len(frame.ctl) - 1, -1, -1):
        entry = frame.ctl[depth]
        if entry["k"] == "for":
            leave(run, thread, depth + 1)
            if which == "break":
                entry["stop"] = True
            for_next(run, thread, entry)
            return
        if entry["k"] == "branch":  # an iteration of a parallel for: it ends; break starts no more
            if which == "break":
                run.stop_iterations(thread)
            routine_return(run, thread, None)
            return
        if entry["k"] == "routine":
            break
    raise type_error(f"next: {which} outside a for loop")


def routine_return(run: Run, thread: Thread, value: Any) -> None:
    """The current routine ends with ``value``: back to its caller, or the thread ends."""
    leave(run, thread, 0)
    thread.frames.pop()
    if not thread.frames:
        run.thread_done(thread, value)
        return
    caller = thread.frames[-1]
    call = caller.ctl[-1]
    if call.get("res"):
        assign(run, thread, call["res"], copy_value(value), view(run, thread))
        check_memory(caller)
    pop_entry(caller)
    close_entry(run, thread, call, entries.SUCCEEDED, output=entries.to_json(value))
    complete(run, thread, run.index.steps[call["p"]])


def block_done(run: Run, thread: Thread) -> None:
    """The list of steps of the construct now on top of the stack ran to its end."""
    frame = thread.frames[-1]
    top = frame.ctl[-1]
    kind = top["k"]
    if kind == "for":
        for_next(run, thread, top)
    elif kind in ("routine", "branch"):
        routine_return(run, thread, None)
    else:  # steps, switch
        pop_entry(frame)
        extra = {"condition": top["c"]} if "c" in top else {}
        close_entry(run, thread, top, entries.SUCCEEDED, **extra)
        complete(run, thread, run.index.steps[top["p"]])


# --------------------------------------------------------------------------- for loops


def loop_items(step: For, seen: dict[str, Any], context: Context) -> tuple[list[Any] | None, float, int]:
    """What a ``for`` goes through: (items, None, count) for ``in``, (None, first, count) for ``range``
    (both bounds included, stepping by one; a range is not made into a list)."""
    if step.range is not None:
        bounds = (
            interpolate(step.range, seen, context)
            if isinstance(step.range, str)
            else [interpolate(bound, seen, context) for bound in step.range]
        )
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(is_number(b) for b in bounds)):
            raise type_error(f"range must be a list of two numbers, [first, last], not {bounds!r}")
        first, last = bounds
        count = max(0, math.floor(last - first) + 1)
        return None, first, count
    items = interpolate(step.items, seen, context)
    if isinstance(items, dict):
        items = list(items)
    if not isinstance(items, list):
        raise type_error(f"for: in must be a list or a map, not {type_name(items)}")
    return items, 0, len(items)


def loop_value(entry: dict[str, Any], at: int) -> Any:
    items = entry.get("items")
    return copy_value(items[at]) if items is not None else entry["lo"] + at


def start_for(run: Run, thread: Thread, step: For, rec: dict[str, Any]) -> None:
    items, first, count = loop_items(step, view(run, thread), run.context())
    frame = thread.frames[-1]
    frame.scopes.append({})
    rec.update(k="for", sc=len(frame.scopes) - 1, i=0, cnt=count, v=step.value, x=step.index)
    if items is not None:
        rec["items"] = copy_value(items)
    else:
        rec["lo"] = first
    frame.ctl.append(rec)
    for_next(run, thread, rec)


def for_next(run: Run, thread: Thread, entry: dict[str, Any]) -> None:
    """Start the loop's next iteration, or end the loop (the innermost entry is the loop's)."""
    frame = thread.frames[-1]
    sub = entry.pop("sub", None)
    if sub is not None:
        close_record(run, thread, frame.routine, sub, entries.SUCCEEDED, {})
    at = entry["i"]
    if entry.get("stop") or at >= entry["cnt"]:
        pop_entry(frame)
        close_entry(run, thread, entry, entries.SUCCEEDED)
        complete(run, thread, run.index.steps[entry["p"]])
        return
    scope = frame.scopes[entry["sc"]]
    scope[entry["v"]] = loop_value(entry, at)
    if entry.get("x"):
        scope[entry["x"]] = at
    entry["sub"] = open_record(run, thread, "FOR_ITERATION", entry["n"], entry["p"], entry["l"], iteration=at)
    entry["i"] = at + 1
    frame.ctl.append(seq(entry["p"], "s"))
