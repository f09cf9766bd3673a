"""Where spans go: made at the first :func:`configure`, pointed at the traces directory of the last settings
configured (or at an OTLP endpoint). Spans are handed to OpenTelemetry's batch processor and exporters as
the SDK's ``ReadableSpan``; stepdance makes them itself (:mod:`.spans`) rather than through the SDK's
tracer, whose per-span work (sampling, attribute checks, locks, a tracer lookup) cost 40% of an order
saga's throughput when every state, task, publish and delivery is a span (measured: 350 -> 190 orders/s).
It keeps no global OpenTelemetry provider, so embedding it never replaces an application's.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from stepdance.telemetry.files import JsonLinesExporter

if TYPE_CHECKING:
    from stepdance.settings import Settings

SCHEDULE_MILLIS = 500  # how long spans wait in memory before their batch is written
QUEUE_SIZE = 65_536  # spans waiting to be written; past it, new ones are dropped (never blocks the caller)
OTLP_VARIABLES = (
    "STEPDANCE_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


class TracingError(RuntimeError):
    """Tracing is configured in a way that cannot work here (an OTLP endpoint without its exporter)."""


@dataclass
class _State:
    processors: list[BatchSpanProcessor] = field(default_factory=list)
    files: JsonLinesExporter | None = None
    endpoint: str | None = None
    enabled: bool = False
    resource: Resource | None = None


_state = _State()
_lock = threading.Lock()


def traces_dir(settings: Settings) -> Path:
    return settings.data_dir / "traces"


def configure(settings: Settings) -> None:
    """Trace to ``settings``' traces directory (or to the OTLP endpoint the environment names), or not at
    all when ``settings.tracing`` is off. Cheap when nothing changes; safe from any thread."""
    endpoint = otlp_endpoint()
    with _lock:
        _state.enabled = settings.tracing
        if not settings.tracing:
            return
        if _state.resource is None:
            _state.resource = Resource.create({"service.name": _service_name()})
            atexit.register(shutdown)
        if endpoint is not None and endpoint != _state.endpoint:
            _state.processors.append(_batch(_otlp(endpoint)))
            _state.endpoint = endpoint
        if endpoint is None:
            if _state.files is None:
                _state.files = JsonLinesExporter(traces_dir(settings))
                _state.processors.append(_batch(_state.files))
            elif _state.files.directory != traces_dir(settings):
                for processor in _state.processors:  # what is waiting belongs to the previous directory
                    processor.force_flush()
                _state.files.directory = traces_dir(settings)


def otlp_endpoint() -> str | None:
    """The OTLP endpoint the environment names, if any (stepdance's variable first)."""
    return next((os.environ[v] for v in OTLP_VARIABLES if os.environ.get(v)), None)


def enabled() -> bool:
    """Whether spans are recorded (callers skip the work of making them otherwise)."""
    return _state.enabled and bool(_state.processors)


def resource() -> Resource:
    return _state.resource or Resource.create({"service.name": "stepdance"})


def export(span: ReadableSpan) -> None:
    """Hand an ended span to every exporter (batched, in their threads)."""
    if _state.enabled:
        for processor in _state.processors:
            processor.on_end(span)


def flush(timeout_millis: int = 5000) -> None:
    """Write every span ended so far (before reading the traces back, or before a process exits)."""
    for processor in list(_state.processors):
        processor.force_flush(timeout_millis)


def shutdown() -> None:
    for processor in list(_state.processors):
        processor.shutdown()  # type: ignore[no-untyped-call]


def _batch(exporter: SpanExporter) -> BatchSpanProcessor:
    return BatchSpanProcessor(exporter, max_queue_size=QUEUE_SIZE, schedule_delay_millis=SCHEDULE_MILLIS)


def _service_name() -> str:
    """What this process is, for the spans' resource: ``stepdance service payment``, a worker, the CLI."""
    args = [a for a in sys.argv[1:3] if not a.startswith("-")]
    if args[:1] != ["service"]:  # only a service's name says more than the command
        args = args[:1]
    return "stepdance" + (f" {' '.join(args)}" if args else "")


def _otlp(endpoint: str) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise TracingError(
            f"an OTLP endpoint is set ({endpoint}) but the OTLP exporter is not installed: "
            "pip install 'stepdance[otlp]'"
        ) from None
    traces = endpoint if endpoint.rstrip("/").endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"
    return OTLPSpanExporter(endpoint=traces)
