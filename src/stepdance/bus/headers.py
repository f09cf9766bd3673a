"""Message headers: who caused an event (correlation and causation ids), its W3C trace context, and the
bus's own bookkeeping.

The correlation id names a whole flow (an order): the first event's id, copied onto every event it causes.
The causation id is the id of the event that directly caused this one. ``traceparent`` follows W3C Trace
Context (``00-<trace id>-<parent span id>-<flags>``); a caused event keeps the trace id under a new span id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stepdance.bus.ids import span_id, trace_id

CORRELATION = "correlation-id"
CAUSATION = "causation-id"
TRACEPARENT = "traceparent"
CARRIED = (CORRELATION, CAUSATION, TRACEPARENT)

PUBLISHED_AT = "stepdance-published-at"  # epoch seconds the bus received the event; its age counts from it
ONLY_GROUP = "stepdance-only-group"  # a redriven event: only this target's group delivers it
REPLAY_RULES = "stepdance-replay-rules"  # a replayed event: the rule names it goes to (empty: every rule)

_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def new_traceparent() -> str:
    return f"00-{trace_id()}-{span_id()}-01"


def child_traceparent(parent: str | None) -> str:
    """A new span in ``parent``'s trace; a new trace when ``parent`` is missing or malformed."""
    found = _TRACEPARENT.fullmatch(parent or "")
    if found is None:
        return new_traceparent()
    return f"00-{found.group(1)}-{span_id()}-{found.group(3)}"


def for_event(event_id: str, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The carried headers of a new event: the given ones, the correlation id defaulting to the event's own
    id (it starts a flow) and a new trace when none is given."""
    if not given:
        return {CORRELATION: event_id, TRACEPARENT: new_traceparent()}
    headers = {k: v for k, v in given.items() if k in CARRIED and v}
    headers.setdefault(CORRELATION, event_id)
    headers.setdefault(TRACEPARENT, new_traceparent())
    return headers


def caused_by(cause_id: str, cause_headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers for an event caused by event ``cause_id`` (which carried ``cause_headers``)."""
    cause_headers = cause_headers or {}
    return {
        CORRELATION: cause_headers.get(CORRELATION) or cause_id,
        CAUSATION: cause_id,
        TRACEPARENT: child_traceparent(cause_headers.get(TRACEPARENT)),
    }


def carried(headers: Mapping[str, Any]) -> dict[str, str]:
    """Only the headers that travel with an event from service to service."""
    return {k: str(v) for k, v in headers.items() if k in CARRIED}
