"""OpenTelemetry for every part: spans exported as JSON lines under ``<data dir>/traces`` (one file per
process), or over OTLP/HTTP when ``STEPDANCE_OTLP_ENDPOINT`` (or OpenTelemetry's own
``OTEL_EXPORTER_OTLP_ENDPOINT``) is set; ``STEPDANCE_TRACING=off`` turns it off.

::

    telemetry.configure(settings)              # done by the engine and the bus when they are made
    with telemetry.span("payment.charge", attributes={"order.id": order_id}):
        ...
    headers = {"traceparent": telemetry.publish_traceparent("publish OrderPlaced", parent=None)}

One order is one trace in every design: the execution of an order carries its trace in its ``traceHeader``;
the bus carries W3C ``traceparent`` in every event's headers, and the span that published an event is the
parent of the spans that deliver it. Spans the engine records after the fact (a state entered in one
transition and left in another, maybe by another worker after a crash) get ids derived from the execution
and its history, so every worker names them alike.
"""

from stepdance.telemetry import setup
from stepdance.telemetry.files import SPAN_FILES, read_spans
from stepdance.telemetry.setup import configure, enabled, flush, otlp_endpoint, traces_dir
from stepdance.telemetry.spans import (
    Live,
    correlation,
    current_traceparent,
    derived_span_id,
    derived_trace_id,
    from_trace_header,
    new_span_id,
    parse,
    publish_traceparent,
    record_span,
    span,
    start_context,
    traceparent_of,
)

__all__ = [
    "SPAN_FILES",
    "Live",
    "configure",
    "correlation",
    "current_traceparent",
    "derived_span_id",
    "derived_trace_id",
    "enabled",
    "flush",
    "from_trace_header",
    "new_span_id",
    "otlp_endpoint",
    "parse",
    "publish_traceparent",
    "read_spans",
    "record_span",
    "setup",
    "span",
    "start_context",
    "traceparent_of",
    "traces_dir",
]
