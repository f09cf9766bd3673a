"""``parallel``: branches, or the iterations of a ``for``, each run by a thread of its own.

The thread running the parallel step waits until every branch has ended. At most ``concurrency_limit``
branches run at once (and never more than 20, Workflows' limit on concurrent branches and iterations);
the others wait their turn, in order. A branch sees the variables of the routine around the step and
writes the ``shared`` ones (:mod:`.machine_vars`); an iteration has the loop's ``value`` and ``index`` of
its own. ``break`` in a parallel ``for`` ends its iteration and starts no more; ``continue``, ``end`` and
``return`` end the branch.

An error no step of a branch handles ends that branch. With ``exception_policy: continueAll`` (the default
and, in Workflows, the only policy) the other branches go on, and once all have ended the parallel step
raises::

    {"message": "UnhandledBranchError: One or more branches or iterations encountered an unhandled
                 runtime error",
     "tags": ["UnhandledBranchError"],
     "branches": [{"id": "<branch name, or iteration index>", "error": <the branch's error>}, ...],
     "truncated": false}

listing at most 100 errors (Workflows' limit on unhandled exceptions per execution; ``truncated`` says
when more were dropped). Under any other policy the first such error cancels the branches still running
(their tasks and timers too) and the step raises the same map at once. Parallel steps nested more than 2
deep raise ParallelNestingError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepdance.asl.protocol import CancelTask, CancelTimer
from stepdance.gcw import machine_entries as entries
from stepdance.gcw.expr import interpolate
from stepdance.gcw.expr.errors import WorkflowsError, type_error, value_error
from stepdance.gcw.expr.values import is_int, type_name
from stepdance.gcw.machine_flow import (
    RAISING,
    close_entry,
    close_record,
    complete,
    error_value,
    loop_items,
    loop_value,
    open_record,
    pop_entry,
    seq,
)
from stepdance.gcw.machine_state import Frame, Thread, copy_value
from stepdance.gcw.machine_vars import view
from stepdance.gcw.syntax import Parallel

if TYPE_CHECKING:
    from stepdance.gcw.machine import Run

MAX_NESTING = 2
MAX_CONCURRENT = 20
MAX_ERRORS = 100
CONTINUE_ALL = "continueAll"
MESSAGE = "UnhandledBranchError: One or more branches or iterations encountered an unhandled runtime error"


def parallel_step(run: Run, thread: Thread, step: Parallel, rec: dict[str, Any]) -> None:
    if thread.sync:
        raise type_error("a parallel step cannot run in a subworkflow called from an expression")
    if thread.depth + 1 > MAX_NESTING:
        raise WorkflowsError.tagged(
            "ParallelNestingError", f"parallel steps nest more than {MAX_NESTING} deep at {step.name}"
        )
    seen, context = view(run, thread), run.context()
    if step.loop is not None:
        items, first, count = loop_items(step.loop, seen, context)
        source = {"items": items} if items is not None else {"lo": first}
        specs = [{"i": at, "v": loop_value(source, at)} for at in range(count)]
    else:
        specs = [{"b": at} for at in range(len(step.branches))]
    limit = step.concurrency_limit
    if isinstance(limit, str):
        limit = interpolate(limit, seen, context)
    if limit is not None and (not is_int(limit) or limit < 1):
        raise value_error(
            f"concurrency_limit must be a positive whole number, not {type_name(limit)} {limit}"
        )
    rec.update(k="par", queue=specs, run=[], errors=[], lim=min(limit or MAX_CONCURRENT, MAX_CONCURRENT))
    thread.frames[-1].ctl.append(rec)
    thread.wait = {"on": "children"}
    _fill(run, thread, rec)
    if not rec["run"]:
        _finish(run, thread)


def _fill(run: Run, parent: Thread, entry: dict[str, Any]) -> None:
    while entry["queue"] and len(entry["run"]) < entry["lim"] and not entry.get("stop"):
        _spawn(run, parent, entry, entry["queue"].pop(0))


def _spawn(run: Run, parent: Thread, entry: dict[str, Any], spec: dict[str, Any]) -> None:
    step = run.index.steps[entry["p"]]
    assert isinstance(step, Parallel)
    run.st.seq += 1
    frame = parent.frames[-1]
    child = Thread(
        id=f"t{run.st.seq}",
        frames=[Frame(frame.routine, [{}], [])],
        parent=parent.id,
        shared=list(step.shared),
        depth=parent.depth + 1,
        base=parent.base + len(parent.frames),
        last=parent.last,
    )
    if "b" in spec:
        branch = step.branches[spec["b"]]
        child.label = branch.name
        rec = open_record(
            run, child, "PARALLEL_BRANCH_ENTRY", branch.name, branch.path, branch.line, branch=branch.name
        )
        body = seq(step.path, f"b{spec['b']}")
    else:
        loop = step.loop
        assert loop is not None
        child.label = str(spec["i"])
        child.frames[0].scopes[0][loop.value] = spec["v"]
        if loop.index:
            child.frames[0].scopes[0][loop.index] = spec["i"]
        rec = open_record(run, child, "FOR_ITERATION", step.name, loop.path, loop.line, iteration=spec["i"])
        body = seq(loop.path, "s")
    rec["k"] = "branch"
    child.frames[0].ctl.extend([rec, body])
    run.st.threads[child.id] = child
    entry["run"].append(child.id)
    run.queue.append(child.id)


def branch_ended(run: Run, child: Thread, failed: bool, error: Any = None) -> None:
    """A branch thread ended (``failed``: with ``error`` unhandled); the parallel step goes on or ends."""
    run.st.threads.pop(child.id, None)
    parent = run.st.threads.get(str(child.parent))
    if parent is None:
        return
    entry = parent.frames[-1].ctl[-1]
    entry["run"].remove(child.id)
    if failed:
        if len(entry["errors"]) < MAX_ERRORS:
            entry["errors"].append({"id": child.label, "error": copy_value(error)})
        else:
            entry["truncated"] = True
        step = run.index.steps[entry["p"]]
        if isinstance(step, Parallel) and step.exception_policy != CONTINUE_ALL:
            for tid in entry["run"]:
                drop_thread(run, tid)
            entry["run"], entry["queue"] = [], []
    _fill(run, parent, entry)
    if not entry["run"]:
        _finish(run, parent)


def stop_iterations(run: Run, child: Thread) -> None:
    """``break`` in an iteration of a parallel for: no iteration starts after it."""
    parent = run.st.threads.get(str(child.parent))
    if parent is not None:
        parent.frames[-1].ctl[-1]["stop"] = True


def _finish(run: Run, parent: Thread) -> None:
    frame = parent.frames[-1]
    entry = pop_entry(frame)
    parent.wait = None
    run.queue.append(parent.id)
    if entry["errors"]:
        error = {
            "message": MESSAGE,
            "tags": ["UnhandledBranchError"],
            "branches": entry["errors"],
            "truncated": bool(entry.get("truncated")),
        }
        close_entry(run, parent, entry, entries.FAILED, **entries.exception(error))
        run.unwind(parent, error)
        return
    close_entry(run, parent, entry, entries.SUCCEEDED)
    try:
        complete(run, parent, run.index.steps[entry["p"]])
    except RAISING as exc:
        run.unwind(parent, error_value(exc))


def drop_thread(run: Run, tid: str) -> None:
    """Cancel a thread and everything under it: its branches, tasks and timers; its open entries end
    CANCELLED."""
    thread = run.st.threads.pop(tid, None)
    if thread is None:
        return
    for child in [t.id for t in run.st.threads.values() if t.parent == tid]:
        drop_thread(run, child)
    for task_id, owner in list(run.st.tasks.items()):
        if owner == tid:
            del run.st.tasks[task_id]
            run.command(CancelTask(task_id))
    for timer_id, owner in list(run.st.timers.items()):
        if owner == tid:
            del run.st.timers[timer_id]
            run.command(CancelTimer(timer_id))
    waiting = (thread.wait or {}).get("rec")
    if waiting is not None and thread.frames:
        close_record(run, thread, thread.frames[-1].routine, waiting, entries.CANCELLED, {})
    for frame in reversed(thread.frames):
        for entry in reversed(frame.ctl):
            if "e" in entry:
                close_record(run, thread, frame.routine, entry, entries.CANCELLED, {})
