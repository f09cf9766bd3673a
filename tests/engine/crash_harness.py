"""Worker processes for the crash tests: start, kill (SIGKILL) or stop (SIGTERM), and read their log."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN_CLI = "from stepdance.cli.main import app; app()"


@dataclass
class Workers:
    store_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    outputs: dict[int, Path] = field(default_factory=dict)

    def start(self, **extra: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "STEPDANCE_STORE": self.store_url,
            "STEPDANCE_LEASE_SECONDS": "1",
            "STEPDANCE_POLL_SECONDS": "0.05",
            "STEPDANCE_TEST_LOG": str(self.log),
            "PYTHONPATH": str(ROOT),
            **self.env,
            **extra,
        }
        args = [sys.executable, "-c", RUN_CLI, "worker", "--handlers", "tests.engine.crash_handlers"]
        output = self.log.with_name(f"worker-{len(self.running)}.err")
        with output.open("wb") as stderr:
            process = subprocess.Popen(args, cwd=ROOT, env=env, stderr=stderr)
        self.running.append(process)
        self.outputs[process.pid] = output
        return process

    def ready(self, process: subprocess.Popen[bytes]) -> None:
        wait_until(lambda: b"ready" in self.outputs[process.pid].read_bytes(), 20, "the worker to start")

    def output(self) -> str:
        """Everything the workers wrote to stderr (shown when a test fails)."""
        return "\n".join(f"--- {pid}\n{path.read_text()}" for pid, path in self.outputs.items())

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        process.send_signal(signal.SIGTERM)
        return process.wait(15)

    def close(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.wait(10)

    def lines(self) -> list[tuple[str, str, str]]:
        if not self.log.exists():
            return []
        return [tuple(line.split()) for line in self.log.read_text().splitlines() if line]  # type: ignore[misc]

    def count(self, kind: str, step: str | None = None) -> int:
        return sum(1 for k, s, _ in self.lines() if k == kind and (step is None or s == step))

    def invocations(self) -> collections.Counter[str]:
        return collections.Counter(key for kind, _, key in self.lines() if kind == "start")


def wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
