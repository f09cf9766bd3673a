"""What the benchmarks share: timing, rich progress, scratch PostgreSQL databases, RSS and the RESULT line.

Every benchmark prints its figures, then its ratios (stepdance over the peer, higher is better), and last a
single ``RESULT {json}`` line that scripts can parse.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

# The peers (plain broker clients, DBOS, moto) record no spans: stepdance is measured the same way unless
# asked (STEPDANCE_TRACING=on measures it with its tracing; docs/tracing.md gives that cost). Set before
# any stepdance settings are read.
os.environ.setdefault("STEPDANCE_TRACING", "off")
TRACING = os.environ["STEPDANCE_TRACING"]

console = Console(width=None if sys.stdout.isatty() else 120)

# The server the benchmarks use; each run works in a database of its own, created and dropped here.
POSTGRES = os.environ.get("STEPDANCE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@dataclass
class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds`` (wall) and ``watch.cpu_seconds`` (this
    process, all threads: what other processes on a busy machine do not inflate)."""

    started: float = 0.0
    cpu_started: float = 0.0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = time.process_time() - self.cpu_started


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` calls: robust to a stray GC pause or fsync stall."""
    took = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        took.append(time.perf_counter() - began)
    return statistics.median(took)


def ratio(ours_better: float, peer: float) -> float:
    """Stepdance over the peer where higher is better (pass rates, or the peer's time over ours)."""
    return round(ours_better / peer, 2) if peer else float("inf")


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size now (not the peak), in MiB."""
    with open(f"/proc/{pid}/statm") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on :data:`POSTGRES` for one run; dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fsync_setting(engine: Any) -> str:
    """What a SQLAlchemy engine's own connections do about fsync: journal mode and synchronous for SQLite,
    synchronous_commit for PostgreSQL (per-connection settings, so asked through that engine)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return f"SQLite journal_mode={journal} synchronous={names.get(int(sync or 0), sync)}"
        setting = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        return f"PostgreSQL synchronous_commit={setting}"


def figures_table(
    title: str, rows: list[tuple[str, ...]], columns: tuple[str, ...] = ("", "stepdance", "peer")
) -> Table:
    """Rows of (what, stepdance, peer), or of ``columns``."""
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i else "left")
    for row in rows:
        table.add_row(*row)
    return table


def finish(figures: dict[str, Any], targets: dict[str, float]) -> None:
    """Print each ``*_ratio`` against its target (ratios last), then the ``RESULT`` line, which also says
    how busy the machine was (a ratio measured beside other work is less certain)."""
    figures = {**figures, "cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2), "tracing": TRACING}
    console.print(f"machine: {figures['cpus']} CPUs, load average {figures['load_1m']} over the last minute")
    console.print(f"stepdance's tracing: {TRACING} (STEPDANCE_TRACING)")
    for key, value in figures.items():
        if key.endswith("_ratio"):
            target = targets.get(key)
            verdict = (
                "" if target is None else ("  [green]meets[/]" if value >= target else "  [red]below[/]")
            )
            goal = "" if target is None else f" (target >= {target:g})"
            console.print(f"[bold]{key}[/] = {value:g}{goal}{verdict}")
    print("RESULT " + json.dumps(figures, sort_keys=False), flush=True)
