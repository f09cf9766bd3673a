"""A real ``stepdance serve`` process for the API tests, and boto3 clients pointed at it as a user points
them (``endpoint_url`` and credentials are the only change from code written for AWS)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from stepdance.order.designs.base import open_service
from stepdance.order.orders import Orders

STARTED = 60.0  # seconds the server may take to say it listens
ACCESS_KEY, SECRET_KEY = "AKIDSTEPDANCETEST", "test-secret-key"


@dataclass
class Served:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    services_url: str | None = None  # the services' databases: SQLite files in data_dir unless set
    armed: float = 0.0  # time.monotonic() when it started listening (and armed any --faults)
    grpc: str | None = None  # host:port of the Workflows Executions API (gRPC)
    pubsub: str | None = None  # host:port of Pub/Sub (gRPC)

    def orders_record(self, order_id: str) -> dict[str, Any] | None:
        """The order's record in the orders view, read from the service's own database."""
        view = open_service("orders", self.services_url, self.data_dir)
        try:
            assert isinstance(view, Orders)
            return view.get(order_id)
        finally:
            view.engine.dispose()

    def client(self, service: str, *, key: str = ACCESS_KEY, secret: str = SECRET_KEY, **config: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}, **config),
        )


@contextmanager
def serving(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``stepdance serve --port 0 ARGS`` on ``data_dir``, stopped with SIGTERM afterwards."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STEPDANCE_")}
    environ.update(STEPDANCE_DATA_DIR=str(data_dir), STEPDANCE_POLL_SECONDS="0.05", **(env or {}))
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "stepdance.cli", "serve", "--port", "0", "--grpc-port", "0", "--pubsub-port", "0"),
            *args,
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        grpc: dict[str, str] = {}
        url = _listening(process, grpc)
        yield Served(url, data_dir, process, grpc=grpc.get("executions"), pubsub=grpc.get("pubsub"))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _listening(process: subprocess.Popen[str], grpc: dict[str, str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + STARTED
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        executions = re.search(r"Executions API \(gRPC, no TLS\) on ([\d.]+:\d+)", line)
        if executions:
            grpc["executions"] = executions.group(1)
        pubsub = re.search(r"Pub/Sub \(gRPC, no TLS\) on ([\d.]+:\d+)", line)
        if pubsub:
            grpc["pubsub"] = pubsub.group(1)
        found = re.search(r"on (http://[\d.]+:\d+)", line)
        if found:
            return found.group(1)
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"stepdance serve did not start (exit {process.poll()}): {''.join(seen)}")


def eventually(check: Callable[[], Any], *, seconds: float = 30.0, every: float = 0.05) -> Any:
    """``check()``'s first truthy answer: the condition a test waits for, asked until it holds."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"still {answer!r} after {seconds} s")
        time.sleep(every)
