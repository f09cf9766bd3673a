"""``try`` with ``retry`` and ``except``.

An error that reaches a ``try`` while its body runs is first offered to the retry policy: if the
predicate says yes and fewer than ``max_retries`` retries were made, the body runs again from its start
after ``initial_delay * multiplier ** n`` seconds, at most ``max_delay`` (n counting the retries made
before this one: 1, 2, 4, 8... for the docs' example), the wait being a timer whose id holds
:data:`~stepdance.asl.protocol.RETRY_TIMER`. Otherwise ``except`` runs with the error under its ``as`` name,
in a scope of its own; with no ``except`` the error goes on up.

A policy is a map of one's own, or a reference (``${http.default_retry}``, or a variable holding a
policy). The predicate is a function of the error: a subworkflow of the definition (run to its end at
once, as a function; it may log, not wait) or a library predicate (``http.default_retry_predicate``,
``retry.always``...); it must return a boolean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepdance.asl.protocol import RETRY_TIMER, StartTimer
from stepdance.gcw import machine_calls
from stepdance.gcw import machine_entries as entries
from stepdance.gcw.expr import Backoff, FunctionRef, RetryPolicy, call_function, interpolate
from stepdance.gcw.expr.errors import type_error, value_error
from stepdance.gcw.expr.values import is_int, is_number, type_name
from stepdance.gcw.machine_flow import close_entry, close_record, complete, open_entry, pop_entry, seq
from stepdance.gcw.machine_state import Frame, Thread, copy_value
from stepdance.gcw.machine_vars import view
from stepdance.gcw.syntax import Retry, Try

if TYPE_CHECKING:
    from stepdance.gcw.machine import Run


@dataclass(frozen=True, slots=True)
class Policy:
    predicate: str
    max_retries: int
    initial_delay: float
    max_delay: float
    multiplier: float

    def delay(self, retries_made: int) -> float:
        return float(min(self.initial_delay * self.multiplier**retries_made, self.max_delay))


def try_step(run: Run, thread: Thread, step: Try, rec: dict[str, Any]) -> None:
    rec.update(k="try", ph="body", tries=0)
    frame = thread.frames[-1]
    frame.ctl.append(rec)
    frame.ctl.append(seq(step.path, "t"))


def block_done(run: Run, thread: Thread) -> None:
    """The body, or the except steps, ran to their end: the try step is done."""
    entry = pop_entry(thread.frames[-1])
    close_entry(run, thread, entry, entries.SUCCEEDED)
    complete(run, thread, run.index.steps[entry["p"]])


def handle(run: Run, thread: Thread, frame: Frame, entry: dict[str, Any], error: Any) -> bool:
    """``error`` reached the body of the try of ``entry`` (the top of the stack): retry, run except, or
    return False for the error to go on up. An error in the policy or its predicate replaces ``error``."""
    step = run.index.steps[entry["p"]]
    assert isinstance(step, Try)
    policy = resolve(run, thread, step)
    if policy is not None and entry["tries"] < policy.max_retries and _predicate(run, thread, policy, error):
        delay = policy.delay(entry["tries"])
        entry["tries"] += 1
        entry["ph"] = "wait"
        entry["sub"] = open_entry(
            run, thread, step, "RETRY", retry=entry["tries"], delay=delay, **entries.exception(error)
        )
        timer = f"{thread.id}#{entry['e']}{RETRY_TIMER}{entry['tries']}"
        run.st.timers[timer] = thread.id
        run.command(StartTimer(timer, run.now + delay))
        thread.wait = {"on": "timer", "timer": timer, "purpose": "retry"}
        return True
    if step.except_ is None:
        return False
    entry["ph"] = "except"
    frame.scopes.append({step.except_.variable: copy_value(error)} if step.except_.variable else {})
    entry["sc"] = len(frame.scopes) - 1
    entry["sub"] = open_entry(run, thread, step, "EXCEPT", **entries.exception(error))
    frame.ctl.append(seq(step.path, "e"))
    return True


def retry_now(run: Run, thread: Thread) -> None:
    """The back-off is over: the body runs again from its start."""
    thread.wait = None
    frame = thread.frames[-1]
    entry = frame.ctl[-1]
    sub = entry.pop("sub", None)
    if sub is not None:
        close_record(run, thread, frame.routine, sub, entries.SUCCEEDED, {})
    entry["ph"] = "body"
    frame.ctl.append(seq(entry["p"], "t"))
    run.queue.append(thread.id)


def resolve(run: Run, thread: Thread, step: Try) -> Policy | None:
    spec = step.retry
    if spec is None:
        return None
    seen, context = view(run, thread), run.context()
    if isinstance(spec, str):
        found = interpolate(spec, seen, context)
        if isinstance(found, RetryPolicy):
            backoff = found.backoff
            return _policy(found.predicate, found.max_retries, backoff.as_map())
        if isinstance(found, dict) and {"predicate", "max_retries", "backoff"} <= set(found):
            return _policy(found["predicate"], found["max_retries"], found["backoff"])
        raise type_error(f"retry must be a retry policy, not {type_name(found)}")
    return _own_policy(spec, seen, run)


def _own_policy(spec: Retry, seen: dict[str, Any], run: Run) -> Policy:
    context = run.context()

    def value(raw: Any) -> Any:
        return interpolate(raw, seen, context) if isinstance(raw, str) else raw

    backoff = spec.backoff
    found = value(spec.predicate)
    delays = {
        "initial_delay": value(backoff.initial_delay),
        "max_delay": value(backoff.max_delay),
        "multiplier": value(backoff.multiplier),
    }
    return _policy(found, value(spec.max_retries), delays)


def _policy(predicate: Any, max_retries: Any, backoff: Any) -> Policy:
    if isinstance(predicate, str):
        predicate = FunctionRef(predicate)
    if not isinstance(predicate, FunctionRef):
        raise type_error(f"a retry predicate must be a function, not {type_name(predicate)}")
    if isinstance(backoff, Backoff):
        backoff = backoff.as_map()
    if not is_int(max_retries) or max_retries < 0:
        raise value_error(f"max_retries must be a whole number of zero or more, not {max_retries!r}")
    if not isinstance(backoff, dict):
        raise type_error(f"backoff must be a map, not {type_name(backoff)}")
    numbers: list[Any] = [backoff.get(key) for key in ("initial_delay", "max_delay", "multiplier")]
    if not all(is_number(n) and n >= 0 for n in numbers):
        raise value_error(f"backoff needs initial_delay, max_delay and multiplier, numbers >= 0: {backoff!r}")
    initial, most, multiplier = (float(n) for n in numbers)
    return Policy(predicate.name, int(max_retries), initial, most, multiplier)


def _predicate(run: Run, thread: Thread, policy: Policy, error: Any) -> bool:
    name = policy.predicate
    if name in run.definition:
        verdict = machine_calls.call_sync(run, thread, name, [copy_value(error)])
    else:
        verdict = call_function(name, [copy_value(error)], run.context())
    if not isinstance(verdict, bool):
        raise type_error(f"the retry predicate {name} returned {type_name(verdict)}, not a boolean")
    return verdict
