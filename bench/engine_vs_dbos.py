"""stepdance versus DBOS Transact: the three-step saga at 64 concurrent executions, durable, on SQLite and on
PostgreSQL. Executions per second of each, and the ratio. Target: stepdance at least 10x DBOS on both.

Each side gets a fresh store of its own, of the same kind: a new SQLite file in one temporary directory, or
a new database on the same PostgreSQL server (created here and dropped afterwards). Both fsync every commit:
what each side's own connections report is printed. Each side runs a warm-up round of 64 that is not
counted, then ``--count`` executions (DBOS: ``--dbos-count``) with 64 in flight.

    .venv/bin/python bench/engine_vs_dbos.py [--stores sqlite,postgres] [--count N] [--dbos-count N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

from _common import Stopwatch, console, figures_table, finish, progress, ratio, scratch_database
from _dbos_saga import CONFIGURATION as DBOS_CONFIGURATION
from _dbos_saga import measure as measure_dbos
from _stepdance import SAGA, durability, order, stepdance

TARGET = 10.0
CONCURRENCY = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--count", type=int, default=4000, help="stepdance executions per store")
    parser.add_argument("--dbos-count", type=int, default=640, help="DBOS workflows per store")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    notes: list[str] = []
    with progress() as bar:
        for kind in args.stores.split(","):
            with _store_urls(kind) as (ours_url, dbos_url):
                task = bar.add_task(f"{kind}: DBOS", total=args.dbos_count)
                dbos = measure_dbos(dbos_url, args.dbos_count, CONCURRENCY, lambda t=task: bar.advance(t))
                gc.collect()
                ours = asyncio.run(_measure_ours(ours_url, args.count, bar, kind))
            figures[f"{kind}_dbos_per_s"] = round(dbos.per_second, 1)
            figures[f"{kind}_stepdance_per_s"] = round(ours.per_second, 1)
            figures[f"{kind}_stepdance_changes_per_commit"] = ours.changes_per_commit
            figures[f"{kind}_ratio"] = ratio(ours.per_second, dbos.per_second)
            notes.append(f"{kind}: stepdance fsyncs with {ours.durability}; DBOS with {dbos.durability}")
            notes.append(f"{kind}: stepdance committed {ours.changes_per_commit} changes per transaction")
    _show(figures, notes)
    finish(figures, {key: TARGET for key in figures if key.endswith("_ratio")})


@dataclass
class Ours:
    per_second: float
    durability: str
    changes_per_commit: float


async def _measure_ours(url: str, count: int, bar: Progress, kind: str) -> Ours:
    async with stepdance(url) as ours:
        arn = await ours.create("saga", SAGA)
        await _saturate(lambda i: ours.run(arn, order(i)), CONCURRENCY, lambda: None)  # warm-up
        committer = ours.engine.committer
        batches, changes = committer.batches, committer.changes
        task = bar.add_task(f"{kind}: stepdance", total=count)
        with Stopwatch() as watch:
            await _saturate(lambda i: ours.run(arn, order(i)), count, lambda: bar.advance(task))
        per_commit = (committer.changes - changes) / max(1, committer.batches - batches)
        return Ours(count / watch.seconds, durability(ours.store), round(per_commit, 1))


async def _saturate(run: Callable[[int], Any], count: int, done: Callable[[], None]) -> None:
    """``count`` runs, ``CONCURRENCY`` of them in flight at any time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            await run(i)
            done()

    await asyncio.gather(*(one(i) for i in range(count)))


@contextmanager
def _store_urls(kind: str) -> Iterator[tuple[str, str]]:
    """A fresh store for each side, of the same kind."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="stepdance-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'stepdance.db'}", f"sqlite:///{Path(folder) / 'dbos.sqlite'}"
    elif kind == "postgres":
        with scratch_database("sd_bench") as ours, scratch_database("dbos_bench") as theirs:
            yield ours, theirs
    else:
        raise SystemExit(f"unknown store {kind!r}: sqlite or postgres")


def _show(figures: dict[str, Any], notes: list[str]) -> None:
    rows = []
    for key, value in figures.items():
        if key.endswith("_stepdance_per_s"):
            kind = key.removesuffix("_stepdance_per_s")
            rows.append(
                (f"{kind}: saga executions/s", f"{value:.1f}", f"{figures[f'{kind}_dbos_per_s']:.1f}")
            )
    console.print(figures_table(f"three-step saga, {CONCURRENCY} in flight, durable (peer: DBOS)", rows))
    console.print("stepdance: Engine + async Client, StartExecution then wait for the end; async handlers")
    console.print(f"DBOS: {DBOS_CONFIGURATION}")
    for note in notes:
        console.print(note)


if __name__ == "__main__":
    main()
