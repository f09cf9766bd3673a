"""Spans, made directly as OpenTelemetry's ``ReadableSpan`` (see :mod:`.setup` for why): a live one around a
block (:func:`span`: current while the block runs, so spans and events made in it are its children), one
recorded after the fact with its ids and times given (:func:`record_span`: the engine's states, the bus's
deliveries), and the zero-length span of a publish (:func:`publish_traceparent`), whose context the
published event carries.

Context travels as OpenTelemetry's (``opentelemetry.context``), so an application's own instrumentation
inside a handler sees stepdance's span as its parent.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from stepdance.telemetry import setup

_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_XRAY = re.compile(r"Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16})(?:;Sampled=([01]))?.*")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("stepdance")
_OK = Status(StatusCode.UNSET)


@functools.lru_cache(maxsize=4096)  # the same few traceparents are read over and over (an execution's)
def parse(traceparent: str | None) -> SpanContext | None:
    """The span context ``traceparent`` names; None when it is missing or malformed (or all zeros)."""
    found = _TRACEPARENT.fullmatch(traceparent or "")
    if found is None:
        return None
    trace_id, span_id = int(found.group(1), 16), int(found.group(2), 16)
    if not trace_id or not span_id:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(int(found.group(3), 16)))


def from_trace_header(header: str | None) -> str | None:
    """A Step Functions ``traceHeader`` as W3C ``traceparent``: given as one already, or in AWS X-Ray's
    ``Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=1`` (whose root and parent are a W3C trace id and
    span id written another way); None when it is neither."""
    if header is None:
        return None
    if parse(header) is not None:
        return header
    found = _XRAY.fullmatch(header.strip())
    if found is None:
        return None
    flags = "00" if found.group(4) == "0" else "01"
    return f"00-{found.group(1)}{found.group(2)}-{found.group(3)}-{flags}"


def traceparent_of(context: SpanContext) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def current_traceparent() -> str | None:
    """The current span's ``traceparent``, if there is a valid current span."""
    context = trace.get_current_span().get_span_context()
    return traceparent_of(context) if context.is_valid else None


def derived_span_id(*parts: object) -> int:
    """A span id (64 bits, never 0) that is a pure function of ``parts``."""
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") or 1


def derived_trace_id(*parts: object) -> int:
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big") or 1


def start_context(name: str, *, parent: str | None, span_id: int) -> str:
    """The ``traceparent`` of span ``span_id`` under ``parent`` (recorded later by :func:`record_span`):
    what a child started now names as its parent. Without a parent, its trace is derived from ``name``."""
    context = parse(parent)
    if context is not None:
        trace_id = context.trace_id
    else:
        trace_id = derived_trace_id(name) if name else _new_trace_id()
    return traceparent_of(SpanContext(trace_id, span_id, is_remote=True, trace_flags=_SAMPLED))


@dataclass
class Live:
    """The span of a block, while it runs: add attributes, or mark it failed."""

    attributes: dict[str, Any]
    error: str | None = None


CORRELATION = "correlation-id"  # the W3C baggage entry naming the flow (an order) work belongs to


def correlation() -> str | None:
    """The correlation id in the current context's baggage (set by :func:`span`'s ``correlation``)."""
    found = baggage.get_baggage(CORRELATION)
    return None if found is None else str(found)


@contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
    correlation: str | None = None,
) -> Iterator[Live]:
    """A span around the block, child of ``parent`` (a traceparent) or of the current span, current while
    the block runs. An exception leaving the block marks it failed. ``correlation``: the flow's id, carried
    as W3C baggage while the block runs (events published in it carry it), tracing on or off."""
    live = Live(dict(attributes or {}))
    if not setup.enabled():
        if correlation is None:
            yield live
            return
        token = otel_context.attach(baggage.set_baggage(CORRELATION, correlation))
        try:
            yield live
        finally:
            otel_context.detach(token)
        return
    above = parse(parent) if parent else trace.get_current_span().get_span_context()
    if above is not None and not above.is_valid:
        above = None
    context = SpanContext(
        above.trace_id if above else _new_trace_id(), _new_span_id(), is_remote=False, trace_flags=_SAMPLED
    )
    made = trace.set_span_in_context(NonRecordingSpan(context))
    if correlation is not None:
        made = baggage.set_baggage(CORRELATION, correlation, made)
    token = otel_context.attach(made)
    began = time.time_ns()
    try:
        yield live
    except BaseException as error:
        live.error = live.error or f"{type(error).__name__}: {error}"
        raise
    finally:
        otel_context.detach(token)
        _export(name, context, above, kind, began, time.time_ns(), live.attributes, live.error)


def record_span(
    name: str,
    *,
    parent: str | None,
    span_id: int,
    start: float,
    end: float,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
    error: str | None = None,
    trace_id: int = 0,
) -> None:
    """A span that happened (``start`` to ``end``, epoch seconds) with the id ``span_id``, under the span
    ``parent`` names (or, with no parent, in trace ``trace_id``)."""
    if not setup.enabled():
        return
    above = parse(parent)
    context = SpanContext(
        above.trace_id if above else (trace_id or _new_trace_id()),
        span_id,
        is_remote=False,
        trace_flags=_SAMPLED,
    )
    _export(name, context, above, kind, int(start * 1e9), int(max(end, start) * 1e9), attributes, error)


def publish_traceparent(
    name: str, parent: str | None, attributes: Mapping[str, Any] | None = None
) -> str | None:
    """Record a producer span ``name`` (a publish), child of ``parent``'s span, or of the current span when
    no parent is given; its ``traceparent``, for the published event to carry. None when tracing is off
    (the caller keeps its own). An explicit parent wins: work done for several orders at once (a batch
    written in one transaction) runs in one context, not in each order's."""
    if not setup.enabled():
        return None
    above = parse(parent) if parent else trace.get_current_span().get_span_context()
    if above is not None and not above.is_valid:
        above = None
    context = SpanContext(
        above.trace_id if above else _new_trace_id(), _new_span_id(), is_remote=False, trace_flags=_SAMPLED
    )
    now = time.time_ns()
    _export(name, context, above, SpanKind.PRODUCER, now, now, attributes, None)
    return traceparent_of(context)


def _export(
    name: str,
    context: SpanContext,
    parent: SpanContext | None,
    kind: SpanKind,
    start: int,
    end: int,
    attributes: Mapping[str, Any] | None,
    error: str | None,
) -> None:
    setup.export(
        ReadableSpan(
            name=name,
            context=context,
            parent=parent,
            resource=setup.resource(),
            attributes=attributes,
            kind=kind,
            status=_OK if error is None else Status(StatusCode.ERROR, error),
            start_time=start,
            end_time=end,
            instrumentation_scope=_SCOPE,
        )
    )


def new_span_id() -> int:
    """A random span id (for a span whose id its children must know before it is recorded)."""
    return _new_span_id()


def _new_span_id() -> int:
    return random.getrandbits(64) or 1


def _new_trace_id() -> int:
    return random.getrandbits(128) or 1
