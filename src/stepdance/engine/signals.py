"""Signals as JSON, for the ones queued in the store by whoever does not own the execution."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from stepdance.asl.protocol import (
    RedriveRequested,
    Signal,
    StopRequested,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)

_KINDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        TaskStarted,
        TaskSucceeded,
        TaskFailed,
        TaskHeartbeat,
        TimerFired,
        StopRequested,
        RedriveRequested,
    )
}


def encode(signal: Signal) -> dict[str, Any]:
    body = {f.name: getattr(signal, f.name) for f in fields(signal)}
    body["type"] = type(signal).__name__
    return body


def decode(body: dict[str, Any]) -> Signal:
    values = dict(body)
    cls = _KINDS[values.pop("type")]
    result: Signal = cls(**values)
    return result
