"""Spans go over OTLP/HTTP when an endpoint is configured: a real ``stepdance run`` process sends them to a
collector stand-in (an HTTP server decoding OpenTelemetry's own protobuf), and writes no span files."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    reason="the OTLP exporter is not installed (pip install 'stepdance[otlp]')",
)


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(120)
def test_a_run_sends_its_spans_to_the_otlp_endpoint(
    collector: tuple[str, list[bytes]], tmp_path: Path
) -> None:
    endpoint, received = collector
    env = {**os.environ, "STEPDANCE_OTLP_ENDPOINT": endpoint, "STEPDANCE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "stepdance.cli", "run", "--design", "orchestrated", "--orders", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = []
    for body in received:
        request = trace_service.ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                names += [span.name for span in scope.spans]
    assert sum(name.startswith("order ") for name in names) == 3
    assert {"task ChargePayment", "payment.charge", "ChargePayment"} <= set(names)
    assert not list(tmp_path.rglob("spans-*.jsonl"))
