"""Message headers: who caused an event (correlation and causation ids), its W3C trace context, and the
bus's own bookkeeping.

The correlation id names a whole flow (an order): the first event's id unless the publisher gives one (the
orders service gives the order's id; an event an execution publishes carries the execution's name, from
the W3C baggage its task runs with), copied onto every event it causes. The causation id is the id of the
event that directly caused this one. ``traceparent`` follows W3C Trace Context (``00-<trace id>-<parent
span id>-<flags>``): it names the span that published the event (recorded when tracing is on: a child of
the span current at the publish, else of the cause's), so the spans delivering it are that span's children;
with tracing off, a caused event keeps the trace id under a new span id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stepdance import telemetry
from stepdance.bus.ids import span_id, trace_id

CORRELATION = "correlation-id"
CAUSATION = "causation-id"
TRACEPARENT = "traceparent"
CARRIED = (CORRELATION, CAUSATION, TRACEPARENT)

PUBLISHED_AT = "stepdance-published-at"  # epoch seconds the bus received the event; its age counts from it
ONLY_GROUP = "stepdance-only-group"  # a redriven event: only this target's group delivers it
REPLAY_RULES = "stepdance-replay-rules"  # a replayed event: the rule names it goes to (empty: every rule)


def new_traceparent() -> str:
    return f"00-{trace_id()}-{span_id()}-01"


def child_traceparent(parent: str | None) -> str:
    """A new span in ``parent``'s trace; a new trace when ``parent`` is missing or malformed."""
    found = telemetry.parse(parent)
    if found is None:
        return new_traceparent()
    return f"00-{found.trace_id:032x}-{span_id()}-{int(found.trace_flags):02x}"


def for_event(
    event_id: str, given: Mapping[str, str] | None = None, entry: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The carried headers of a new event: the given ones, the correlation id defaulting to the event's own
    id (it starts a flow), and the ``traceparent`` of the publish's span (``entry``, the PutEvents entry,
    names it)."""
    headers = {k: v for k, v in given.items() if k in CARRIED and v} if given else {}
    if CORRELATION not in headers:
        headers[CORRELATION] = telemetry.correlation() or event_id
    parent = headers.get(TRACEPARENT)
    made = None
    if telemetry.enabled():
        kind = str(entry.get("DetailType", "")) if entry else ""
        made = telemetry.publish_traceparent(
            f"publish {kind}".rstrip(),
            parent,
            {
                "stepdance.component": "bus",
                "messaging.message.id": event_id,
                "messaging.message.conversation_id": headers[CORRELATION],
                "event.source": str(entry.get("Source", "")) if entry else "",
            },
        )
    headers[TRACEPARENT] = made or (child_traceparent(parent) if parent else new_traceparent())
    return headers


def caused_by(
    cause_id: str, cause_headers: Mapping[str, str] | None = None, span: str | None = None
) -> dict[str, str]:
    """Headers for an event caused by event ``cause_id`` (which carried ``cause_headers``), handled in the
    span ``span`` names (the delivery's), which :func:`for_event` makes the publish's parent."""
    cause_headers = cause_headers or {}
    parent = span or cause_headers.get(TRACEPARENT)
    return {
        CORRELATION: cause_headers.get(CORRELATION) or cause_id,
        CAUSATION: cause_id,
        **({TRACEPARENT: parent} if parent else {}),
    }


def carried(headers: Mapping[str, Any]) -> dict[str, str]:
    """Only the headers that travel with an event from service to service."""
    return {k: str(v) for k, v in headers.items() if k in CARRIED}
