"""stepdance's in-memory engine versus moto's ASL interpreter: ms per execution, one execution at a time.

Two machines, the same definition text on both sides: three Pass states that each build a small object with
a path and store it with ResultPath, and a Map over 100 items whose iterator is one Pass state. Outputs are
compared, so both sides do the same work. Target: stepdance at least 20x faster on both.

    .venv/bin/python bench/engine_vs_moto.py [--three N] [--map N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
from collections.abc import Callable
from typing import Any

from rich.progress import Progress

from _common import Stopwatch, console, figures_table, finish, progress, ratio
from _moto_sfn import MotoStepFunctions, moto_step_functions
from _stepdance import stepdance

TARGET = 20.0

THREE_STATES: dict[str, Any] = {
    "StartAt": "Charge",
    "States": {
        name: {
            "Type": "Pass",
            "Parameters": {"order.$": "$.order", "step": step},
            "ResultPath": f"$.{name.lower()}",
            **({"End": True} if following is None else {"Next": following}),
        }
        for step, (name, following) in enumerate(
            [("Charge", "Reserve"), ("Reserve", "Notify"), ("Notify", None)], start=1
        )
    },
}

MAP_100: dict[str, Any] = {
    "StartAt": "EachItem",
    "States": {
        "EachItem": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Touch",
                "States": {"Touch": {"Type": "Pass", "Parameters": {"item.$": "$"}, "End": True}},
            },
            "End": True,
        }
    },
}

CASES = {
    "three_state": (THREE_STATES, {"order": {"id": "o-1", "amount": 12}}),
    "map100": (MAP_100, {"items": [{"sku": f"s{i}", "n": i} for i in range(100)]}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--three", type=int, default=300, help="moto executions of the 3-state machine")
    parser.add_argument("--map", type=int, default=15, help="moto executions of the Map over 100 items")
    args = parser.parse_args()
    counts = {"three_state": args.three, "map100": args.map}
    figures: dict[str, Any] = {}
    with progress() as bar:
        # stepdance first: moto keeps every execution's objects, and a heap that large slows whatever runs
        # after it (the collector walks it), which would be charged to us.
        expected = asyncio.run(_measure_ours(bar, counts, figures))
        with moto_step_functions() as moto:
            for case in CASES:
                _measure_moto(case, moto, bar, counts[case], expected[case], figures)
    for case in CASES:
        moto_best = min(figures[f"{case}_moto_interpreter_ms"], figures[f"{case}_moto_boto3_ms"])
        figures[f"{case}_ratio"] = ratio(moto_best, figures[f"{case}_stepdance_ms"])
    _show(figures)
    finish(figures, {f"{case}_ratio": TARGET for case in CASES})


async def _measure_ours(bar: Progress, counts: dict[str, int], figures: dict[str, Any]) -> dict[str, Any]:
    """Times stepdance on each case, 20x the peer's count (its executions are that much shorter); returns
    the outputs, which moto must then reproduce."""
    expected = {}
    async with stepdance("memory://") as ours:
        for case, (definition, document) in CASES.items():
            text = json.dumps(document)
            arn = await ours.create(case, definition)
            expected[case] = json.loads(await ours.run(arn, text))
            count = 20 * counts[case]
            gc.collect()
            task = bar.add_task(f"{case}: stepdance", total=count)
            with Stopwatch() as watch:
                for _ in range(count):
                    await ours.run(arn, text)
                    bar.advance(task)
            figures[f"{case}_stepdance_ms"] = round(watch.seconds * 1000 / count, 4)
            figures[f"{case}_stepdance_cpu_ms"] = round(watch.cpu_seconds * 1000 / count, 4)
    return expected


def _measure_moto(
    case: str, moto: MotoStepFunctions, bar: Progress, count: int, expected: Any, figures: dict[str, Any]
) -> None:
    definition, document = CASES[case]
    text = json.dumps(document)
    arn = moto.create(case, definition)
    sides: dict[str, Callable[[], str]] = {
        "moto_interpreter": lambda: moto.run_interpreter(arn, text),
        "moto_boto3": lambda: moto.run_boto3(arn, text),
    }
    for side, run in sides.items():
        wall, cpu = _ms_per_execution(run, count, expected, bar, f"{case}: {side}")
        figures[f"{case}_{side}_ms"], figures[f"{case}_{side}_cpu_ms"] = wall, cpu


def _ms_per_execution(
    run: Callable[[], str], count: int, expected: Any, bar: Progress, label: str
) -> tuple[float, float]:
    """Wall and CPU milliseconds per execution."""
    if json.loads(run()) != expected:  # a warm-up that also checks both sides compute the same thing
        raise SystemExit(f"{label}: the output differs from stepdance's")
    gc.collect()
    task = bar.add_task(label, total=count)
    with Stopwatch() as watch:
        for _ in range(count):
            run()
            bar.advance(task)
    return round(watch.seconds * 1000 / count, 4), round(watch.cpu_seconds * 1000 / count, 4)


def _show(figures: dict[str, Any]) -> None:
    def cell(key: str) -> str:
        return f"{figures[f'{key}_ms']:.3f} ({figures[f'{key}_cpu_ms']:.3f})"

    rows = []
    for case in CASES:
        rows.append((f"{case} ms/execution", cell(f"{case}_stepdance"), ""))
        rows.append(("  moto interpreter (direct)", "", cell(f"{case}_moto_interpreter")))
        rows.append(("  moto via boto3 client", "", cell(f"{case}_moto_boto3")))
    console.print(figures_table("in memory, one execution at a time: wall ms (CPU ms)", rows))
    console.print(
        "stepdance: Engine on the memory store (no durability), async Client, one execution at a time"
    )
    console.print("ratio = moto's faster path (interpreter direct or via boto3) / stepdance, in wall time")


if __name__ == "__main__":
    main()
