"""``stepdance serve`` versus moto's server (the AWS emulator LocalStack builds on): AWS API calls per second,
made with boto3 over HTTP by the same client code on both sides.

Both servers run as processes of their own on this machine; the clients are ``--threads`` threads in this
process, each with its own boto3 client (as a service's request handlers would have). The calls:

- ``start_execution`` of a one-state Pass machine: stepdance runs each execution durably to SUCCEEDED on its
  SQLite store (group commit, fsync) while it answers; moto records it in memory (its static mock);
- ``describe_execution`` of one of those executions;
- ``put_events`` of one entry on the default bus, matched by a rule (stepdance writes it to its durable log;
  moto keeps it in memory);
- ``list_state_machines``.

The ratio is stepdance's calls/s over moto's. Target: at least 1 for each call (a durable engine and bus
answer as fast as an in-memory mock); the client's own cost (botocore signs and parses every call) is in
both sides alike.

    .venv/bin/python bench/api.py [--calls 2000] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

from _common import console, figures_table, finish, progress
from stepdance.faults.servers import accepts, free_port

TARGET = 1.0
ROLE = "arn:aws:iam::123456789012:role/bench"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}})
CALLS = ("start_execution", "describe_execution", "put_events", "list_state_machines")


@contextmanager
def stepdance_server(data_dir: str) -> Iterator[str]:
    env = {**os.environ, "STEPDANCE_DATA_DIR": data_dir}
    process = subprocess.Popen(
        [sys.executable, "-m", "stepdance.cli", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            found = re.search(r"on (http://[\d.]+:\d+)", line)
            if found:
                yield found.group(1)
                break
        else:
            raise RuntimeError(f"stepdance serve did not start (exit {process.wait()})")
    finally:
        _stop(process)


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto's server did not start (pip install 'moto[server]')")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


class Side:
    """One server and what the calls need on it: a state machine, an execution, a rule."""

    def __init__(self, url: str) -> None:
        self.url = url
        sfn = client(url, "stepfunctions")
        name = f"bench-{uuid.uuid4().hex[:8]}"
        self.machine = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)["stateMachineArn"]
        self.execution = sfn.start_execution(stateMachineArn=self.machine, input="{}")["executionArn"]
        events = client(url, "events")
        events.put_rule(Name=f"{name}-rule", EventPattern=json.dumps({"source": ["bench"]}))

    def call(self, what: str) -> Callable[[Any, Any], Any]:
        entry = [{"Source": "bench", "DetailType": "Tick", "Detail": '{"n": 1}', "EventBusName": "default"}]
        return {
            "start_execution": lambda sfn, _: sfn.start_execution(
                stateMachineArn=self.machine, input='{"n": 1}'
            ),
            "describe_execution": lambda sfn, _: sfn.describe_execution(executionArn=self.execution),
            "put_events": lambda _, events: events.put_events(Entries=entry),
            "list_state_machines": lambda sfn, _: sfn.list_state_machines(maxResults=10),
        }[what]


def calls_per_second(side: Side, what: str, calls: int, threads: int, advance: Callable[[], None]) -> float:
    call = side.call(what)
    clients = [(client(side.url, "stepfunctions"), client(side.url, "events")) for _ in range(threads)]
    for sfn, events in clients:  # connections open and botocore's models loaded before the clock starts
        call(sfn, events)
    each = calls // threads
    start = threading.Barrier(threads + 1)
    failures: list[BaseException] = []

    def run(sfn: Any, events: Any) -> None:
        start.wait()
        try:
            for _ in range(each):
                call(sfn, events)
                advance()
        except BaseException as error:  # reported after the run; a failed call must not count as fast
            failures.append(error)

    workers = [threading.Thread(target=run, args=pair) for pair in clients]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{what} failed: {failures[0]!r}")
    return each * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls of each kind on each server")
    parser.add_argument("--threads", type=int, default=8, help="client threads, each with its own clients")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as data_dir, progress() as bar:
        for name, server in (("stepdance", stepdance_server(data_dir)), ("moto", moto_server())):
            with server as url:
                side = Side(url)
                for what in CALLS:
                    task = bar.add_task(f"{name}: {what}", total=args.calls // args.threads * args.threads)

                    def advance(task: Any = task) -> None:
                        with lock:
                            bar.advance(task)

                    rate = calls_per_second(side, what, args.calls, args.threads, advance)
                    figures[f"{what}_{name}_per_s"] = round(rate, 1)
    rows = []
    for what in CALLS:
        ours, peer = figures[f"{what}_stepdance_per_s"], figures[f"{what}_moto_per_s"]
        figures[f"{what}_ratio"] = round(ours / peer, 2)
        rows.append((what, f"{ours:,.0f}/s", f"{peer:,.0f}/s", f"{ours / peer:.2f}"))
    console.print(
        figures_table(
            f"AWS API calls through boto3, {args.threads} client threads",
            rows,
            ("call", "stepdance serve", "moto server", "ratio"),
        )
    )
    finish(figures, {f"{what}_ratio": TARGET for what in CALLS})


if __name__ == "__main__":
    main()
