"""Handlers for the crash tests' worker processes (``stepdance worker --handlers tests.engine.crash_handlers``).

Every invocation appends ``start <name> <idempotency key>`` to the file named by ``STEPDANCE_TEST_LOG``
before it works and ``end ...`` (or ``fail ...``) after, so the test counts invocations durably across
SIGKILLs. Results depend only on the payload, so :func:`reference` (the same functions, run by the
in-memory interpreter without the log) gives what an uninterrupted run returns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from stepdance.engine import Engine, TaskContext, TaskFailure


def _log(line: str) -> None:
    path = os.environ.get("STEPDANCE_TEST_LOG")
    if path:
        with open(path, "a") as log:
            log.write(line + "\n")


def work(payload: dict[str, Any]) -> dict[str, Any]:
    """Pretend to work for ``payload["sleep"]`` seconds."""
    time.sleep(float(payload.get("sleep", 0.1)))
    return {"did": payload["step"], "n": payload.get("n")}


def flaky(payload: dict[str, Any]) -> dict[str, Any]:
    """Fail the first two attempts (the payload carries ``$$.State.RetryCount``)."""
    if payload["retry"] < 2:
        raise TaskFailure("Busy", f"attempt {payload['retry']}")
    return {"did": "flaky", "after": payload["retry"]}


HANDLERS: dict[str, Callable[[dict[str, Any]], Any]] = {"work": work, "flaky": flaky}
CONNECTOR = "googleapis.stepdance.v1.work"  # how a Cloud Workflows definition calls ``work``


def logged(name: str, fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], TaskContext], Any]:
    def handler(payload: dict[str, Any], context: TaskContext) -> Any:
        _log(f"start {payload.get('step', name)} {context.idempotency_key}")
        try:
            result = fn(payload)
        except TaskFailure:
            _log(f"fail {payload.get('step', name)} {context.idempotency_key}")
            raise
        _log(f"end {payload.get('step', name)} {context.idempotency_key}")
        return result

    return handler


def register(engine: Engine) -> None:
    for name, fn in HANDLERS.items():
        engine.register(name, logged(name, fn))
    engine.register(CONNECTOR, logged("work", work))
