"""Named points where a process can be made to die on purpose (SIGKILL: no cleanup, no flush, exactly as a
power cut or the kernel's OOM killer would), so that the failure scenarios can prove what survives.

``STEPDANCE_CRASH_AT=after_charge_before_ack:3`` kills the process the third time it reaches that point;
without the variable, :func:`reach` costs a dictionary lookup. The points:

- ``after_charge_before_ack``: payment's charge is committed in its database, and whoever asked for it (the
  bus, which acks the event; the engine, which records the task's success) has not been told yet;
- ``after_reserve_before_ack``: the same for inventory's reservation.
"""

from __future__ import annotations

import os
import signal
import threading

POINTS = ("after_charge_before_ack", "after_reserve_before_ack")
VARIABLE = "STEPDANCE_CRASH_AT"


def _armed() -> tuple[str, int] | None:
    spec = os.environ.get(VARIABLE, "")
    if not spec:
        return None
    point, _, nth = spec.partition(":")
    if point not in POINTS:
        raise ValueError(f"{VARIABLE}: unknown point {point!r} (one of {', '.join(POINTS)})")
    return point, int(nth or 1)


_ARMED = _armed()
_hits: dict[str, int] = {}
_lock = threading.Lock()


def reach(point: str, times: int = 1) -> None:
    """``times`` units of work reached ``point`` (a batch counts each of its events); SIGKILL this process
    if that crosses the armed hit."""
    if _ARMED is None or _ARMED[0] != point:
        return
    with _lock:
        before = _hits.get(point, 0)
        _hits[point] = before + times
    if before < _ARMED[1] <= before + times:
        os.kill(os.getpid(), signal.SIGKILL)
