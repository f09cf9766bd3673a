"""stepdance with 100,000 finished executions in its store: ListExecutions' first page, DescribeExecution and
a worker's RSS at 1,000, 10,000 and 100,000 executions. All three must stay flat.

The store is filled fast: one saga runs through the Engine for real, and its rows (execution, snapshot,
history) are copied under new names through the store's batched commit, thousands per transaction. Each
level is then probed by fresh worker processes (an Engine with its Client on the store), so the RSS is that
of a worker that opened a store of that size, not of the process that filled it; the best of three probes
counts, since other processes on the machine only ever add time.

    .venv/bin/python bench/engine_scale.py [--store sqlite|postgres] [--levels 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import Progress

from _common import console, figures_table, finish, progress, ratio, rss_mb, scratch_database
from _stepdance import SAGA, order, stepdance
from stepdance.store import Change, ExecutionRecord, Store, open_store

BATCH = 5000
LIST_PAGE = 100
PROBES = 3  # fresh workers per level
FLAT = 0.5  # a flatness ratio (figure at 1k over figure at 100k) under this means it grew more than 2x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite", help="sqlite (a temporary file) or postgres")
    parser.add_argument("--levels", default="1000,10000,100000", help="comma-separated execution counts")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: run as the worker probing a store
    parser.add_argument("--machine", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(asyncio.run(_probe(args.probe, args.machine, args.count))))
        return
    levels = sorted(int(level) for level in args.levels.split(","))
    with _store_url(args.store) as url, progress() as bar:
        probes = _fill_and_probe(url, levels, bar)
    figures = _figures(args.store, levels, probes)
    _show(levels, probes, args.store)
    finish(figures, {key: FLAT for key in figures if key.endswith("_ratio")})


def _fill_and_probe(url: str, levels: list[int], bar: Progress) -> dict[int, dict[str, float]]:
    machine, template = asyncio.run(_template(url))
    store = open_store(url)
    filling = bar.add_task("filling the store", total=levels[-1])
    probing = bar.add_task(f"probing with {PROBES} fresh workers per level", total=len(levels))
    probes: dict[int, dict[str, float]] = {}
    have = 1  # the execution that made the template
    try:
        for level in levels:
            while have < level:
                size = min(BATCH, level - have)
                _commit(store, [_copy(template, have + i) for i in range(size)])
                have += size
                bar.update(filling, completed=have)
            probes[level] = _best_of(url, machine, level, PROBES)
            bar.advance(probing)
    finally:
        store.close()
    return probes


async def _template(url: str) -> tuple[str, Change]:
    """Run one saga for real and turn what it wrote into a Change that recreates it, finished."""
    async with stepdance(url) as ours:
        machine = await ours.create("saga", SAGA)
        await ours.run(machine, order(0), name="x0000000")
        page = await ours.client.list_executions(stateMachineArn=machine, maxResults=1)
        arn = page["executions"][0]["executionArn"]
        record = await asyncio.to_thread(ours.store.get_execution, arn)
        events = (await asyncio.to_thread(ours.store.get_history, arn, 1000)).items
    record.owner, record.lease_until = None, 0.0
    change = Change(
        arn,
        0,
        None,
        create=record,
        events=events,
        snapshot=record.snapshot,
        status=record.status,
        output=record.output,
        stop_date=record.stop_date,
    )
    return machine, change


def _copy(template: Change, i: int) -> Change:
    assert template.create is not None
    name = f"x{i:07d}"
    arn = f"{template.execution_arn.rsplit(':', 1)[0]}:{name}"
    base = template.create
    record = ExecutionRecord(
        arn, base.state_machine_arn, name, base.revision_id, base.input, base.start_date + i * 0.001
    )
    return Change(
        arn,
        0,
        None,
        create=record,
        events=template.events,
        snapshot=template.snapshot,
        status=template.status,
        output=template.output,
        stop_date=(template.stop_date or base.start_date) + i * 0.001,
    )


def _commit(store: Store, changes: list[Change]) -> None:
    refused = [error for error in store.commit(changes) if error is not None]
    if refused:
        raise SystemExit(f"the store refused {len(refused)} rows: {refused[0]}")


def _best_of(url: str, machine: str, count: int, times: int) -> dict[str, float]:
    """Several fresh workers one after the other; the fastest times and the median RSS. Other processes on a
    shared machine come and go, and only ever add time, so the quietest probe is the truest."""
    runs = [_run_probe(url, machine, count) for _ in range(times)]
    best = {key: min(run[key] for run in runs) for key in runs[0]}
    best["rss_mb"] = statistics.median(run["rss_mb"] for run in runs)
    return best


def _run_probe(url: str, machine: str, count: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--probe", url, "--machine", machine, "--count", str(count)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=240)
    if done.returncode != 0:
        raise SystemExit(f"the probe at {count} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _probe(url: str, machine: str, count: int) -> dict[str, float]:
    """In a fresh worker: median ListExecutions first page and DescribeExecution (of executions picked
    across the whole table), and this process's RSS afterwards."""
    rng = random.Random(count)
    async with stepdance(url) as ours:
        client = ours.client
        prefix = machine.replace(":stateMachine:", ":execution:")
        listed = await client.list_executions(stateMachineArn=machine, maxResults=LIST_PAGE)
        if len(listed["executions"]) != min(LIST_PAGE, count):
            raise SystemExit(f"ListExecutions returned {len(listed['executions'])} of {count}")
        list_times = [
            await _timed(client.list_executions(stateMachineArn=machine, maxResults=LIST_PAGE))
            for _ in range(100)
        ]
        picks = [f"{prefix}:x{rng.randrange(count):07d}" for _ in range(300)]
        await client.describe_execution(executionArn=picks[0])
        describe_times = [await _timed(client.describe_execution(executionArn=arn)) for arn in picks]
        rss = rss_mb()
    return {**_spread("list", list_times), **_spread("describe", describe_times), "rss_mb": rss}


def _spread(what: str, seconds: list[float]) -> dict[str, float]:
    """The median, and the lower quartile: on a shared machine other processes only ever add time, so the
    quartile is what the flatness ratios compare (the medians are printed too)."""
    quartiles = statistics.quantiles(seconds, n=4)
    return {f"{what}_ms": round(quartiles[1] * 1000, 3), f"{what}_q1_ms": round(quartiles[0] * 1000, 3)}


async def _timed(call: Any) -> float:
    began = time.perf_counter()
    await call
    return time.perf_counter() - began


@contextmanager
def _store_url(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="stepdance-scale-") as folder:
            yield f"sqlite:///{Path(folder) / 'stepdance.db'}"
    elif kind == "postgres":
        with scratch_database("sd_scale") as url:
            yield url
    else:
        raise SystemExit(f"unknown store {kind!r}: sqlite or postgres")


def _figures(kind: str, levels: list[int], probes: dict[int, dict[str, float]]) -> dict[str, Any]:
    figures: dict[str, Any] = {"store": kind}
    for level in levels:
        for key, value in probes[level].items():
            figures[f"{key}_at_{level}"] = value
    low, high = probes[levels[0]], probes[levels[-1]]
    figures["list_page_flatness_ratio"] = ratio(low["list_q1_ms"], high["list_q1_ms"])
    figures["describe_flatness_ratio"] = ratio(low["describe_q1_ms"], high["describe_q1_ms"])
    figures["rss_flatness_ratio"] = ratio(low["rss_mb"], high["rss_mb"])
    return figures


def _show(levels: list[int], probes: dict[int, dict[str, float]], kind: str) -> None:
    rows = [
        (
            f"{level:,}",
            f"{probes[level]['list_ms']:.2f} ({probes[level]['list_q1_ms']:.2f})",
            f"{probes[level]['describe_ms']:.2f} ({probes[level]['describe_q1_ms']:.2f})",
            f"{probes[level]['rss_mb']:.0f}",
        )
        for level in levels
    ]
    columns = ("finished executions", "ListExecutions ms", "DescribeExecution ms", "worker RSS MiB")
    title = f"stepdance on {kind}: median (lower quartile), best of {PROBES} fresh workers"
    console.print(figures_table(title, rows, columns))
    console.print(
        f"ListExecutions: the first page of {LIST_PAGE}, through the Client. Flatness ratio: the figure"
    )
    console.print(
        f"(lower quartile for times) at the smallest level over the largest; 1 = flat, target >= {FLAT}"
    )


if __name__ == "__main__":
    main()
