"""Spans as JSON lines: one file per process under the traces directory, appended by a batch exporter's
thread, read back by ``stepdance trace`` and the report. The fields follow OTLP's JSON names (hex ids,
nanosecond times) flattened to one object per span, with the service name of the process that recorded it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

SPAN_FILES = "spans-*.jsonl"
_KINDS = {k: k.name.lower() for k in SpanKind}


class JsonLinesExporter(SpanExporter):
    """Appends each batch to ``<directory>/spans-<pid>.jsonl``; the directory may change between batches
    (a process that runs one design after another in different data directories)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = b"".join(orjson.dumps(as_json(span)) + b"\n" for span in spans)
        with self._lock:
            directory = self.directory
            try:
                directory.mkdir(parents=True, exist_ok=True)
                with (directory / f"spans-{os.getpid()}.jsonl").open("ab") as out:
                    out.write(lines)
            except OSError:
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def as_json(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    parent = span.parent
    resource = span.resource.attributes if span.resource is not None else {}
    out: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}" if context else "",
        "spanId": f"{context.span_id:016x}" if context else "",
        "parentSpanId": f"{parent.span_id:016x}" if parent is not None else "",
        "name": span.name,
        "kind": _KINDS.get(span.kind, "internal"),
        "start": (span.start_time or 0) / 1e9,
        "end": (span.end_time or span.start_time or 0) / 1e9,
        "service": str(resource.get("service.name", "")),
        "attributes": dict(span.attributes or {}),
    }
    if span.status.status_code is StatusCode.ERROR:
        out["error"] = span.status.description or "error"
    if span.events:
        out["events"] = [
            {"name": e.name, "at": e.timestamp / 1e9, "attributes": dict(e.attributes or {})}
            for e in span.events
        ]
    return out


def read_spans(directory: Path) -> Iterator[dict[str, Any]]:
    """Every span written under ``directory`` (a torn last line, from a process killed mid-write, is
    skipped)."""
    for path in sorted(directory.glob(SPAN_FILES)):
        with path.open("rb") as lines:
            for line in lines:
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
