"""What the benchmarks share: timing, rich progress, scratch PostgreSQL databases, RSS and the RESULT line.

Every benchmark prints its figures, then its ratios (stepdance over the peer, higher is better), and last a
single ``RESULT {json}`` line that scripts can parse.
"""

from __future__ import annotations

import json
import os
import statistics
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

console = Console(stderr=False)

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
    """``with Stopwatch() as watch: ...`` then ``watch.seconds``."""

    started: float = 0.0
    seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


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


def postgres_setting(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    return str(row[0]) if row else "?"


def figures_table(title: str, rows: list[tuple[str, str, str]]) -> Table:
    """Rows of (what, stepdance, peer)."""
    table = Table(title=title)
    for column in ("", "stepdance", "peer"):
        table.add_column(column, justify="right" if column else "left")
    for row in rows:
        table.add_row(*row)
    return table


def finish(figures: dict[str, Any], targets: dict[str, float]) -> None:
    """Print each ``*_ratio`` against its target (ratios last), then the ``RESULT`` line."""
    for key, value in figures.items():
        if key.endswith("_ratio"):
            target = targets.get(key)
            verdict = (
                "" if target is None else ("  [green]meets[/]" if value >= target else "  [red]below[/]")
            )
            goal = "" if target is None else f" (target >= {target:g})"
            console.print(f"[bold]{key}[/] = {value:g}{goal}{verdict}")
    print("RESULT " + json.dumps(figures, sort_keys=False), flush=True)
