"""The commands that split a design over processes, run as a user runs them: ``stepdance service`` for
each choreographed service and ``stepdance worker --saga`` for the engine's executions, beside
``stepdance run`` placing the orders. Everything on SQLite files in one data directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTED = 30.0  # seconds a process may take to say it is ready


def _stepdance(*args: str, data_dir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPDANCE_")}
    env["STEPDANCE_DATA_DIR"] = str(data_dir)
    return subprocess.Popen(
        [sys.executable, "-m", "stepdance.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ready(process: subprocess.Popen[str], word: str) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + STARTED
    said: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        said.append(line)
        if word in line:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"{process.args} did not start: exit {process.poll()}: {''.join(said)}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    running: list[subprocess.Popen[str]] = []
    yield running
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.communicate(timeout=15)  # waits and closes its pipes
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _run(data_dir: Path, *args: str) -> dict[str, object]:
    finished = _stepdance("run", "--orders", "60", "--json", *args, data_dir=data_dir)
    out, err = finished.communicate(timeout=120)
    assert finished.returncode == 0, err
    report: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return report


def test_choreographed_services_each_in_a_process_of_their_own(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    for name in ("payment", "inventory", "notification"):
        processes.append(_stepdance("service", name, data_dir=tmp_path))
    for process in processes:
        _ready(process, "ready")
    report = _run(tmp_path, "--design", "choreographed", "--here", "orders")
    assert report["undecided"] == 0
    assert (report["completed"], report["cancelled"]) == (
        report["expected"]["completed"],  # type: ignore[index]
        report["expected"]["cancelled"],  # type: ignore[index]
    )


def test_engine_workers_run_the_executions_run_starts(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    processes.append(_stepdance("worker", "--saga", data_dir=tmp_path))
    _ready(processes[0], "ready")
    report = _run(tmp_path, "--design", "hybrid", "--no-worker")
    assert report["undecided"] == 0
    assert report["completed"] == report["expected"]["completed"]  # type: ignore[index]


def test_a_service_names_an_unreachable_bus(tmp_path: Path) -> None:
    process = _stepdance("service", "payment", "--bus", "nats://127.0.0.1:1", data_dir=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "cannot reach the bus at nats://127.0.0.1:1" in err and "Traceback" not in err
