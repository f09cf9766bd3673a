"""What the report is made of, measured here: the standard workload through each design (throughput,
every order's latency, the spans of its traces), and the failure scenarios on each design. Saved as
``report.json`` beside the report, so a report can be written again from it (``--reuse``) and every figure
in the report can be traced back to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stepdance import telemetry
from stepdance.faults import Scenario
from stepdance.faults.runner import Outcome, run_scenario
from stepdance.order import workload
from stepdance.order.deployment import open_design
from stepdance.order.run import run_orders
from stepdance.settings import Settings

DESIGNS = ("orchestrated", "choreographed", "hybrid", "workflows")
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class DesignRun:
    design: str
    orders: int
    completed: int
    cancelled: int
    orders_per_second: float
    p50_ms: float
    p99_ms: float
    latencies: list[float]  # seconds, placed -> decided, every decided order
    spans_per_order: float
    components: list[str]  # the parts an order's trace crosses
    example_order: str


@dataclass
class Gathered:
    when: str
    machine: str
    orders: int
    runs: dict[str, DesignRun] = field(default_factory=dict)
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # Outcome.to_json() of each scenario run

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gathered:
        runs = {name: DesignRun(**run) for name, run in data["runs"].items()}
        return cls(data["when"], data["machine"], data["orders"], runs, list(data["outcomes"]))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")


async def gather(
    settings: Settings, orders: int, scenarios: Sequence[Scenario], progress: Progress | None = None
) -> Gathered:
    found = Gathered(
        when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}",
        orders=orders,
    )
    for design in DESIGNS:
        found.runs[design] = await _workload(design, settings, orders, progress)
    runs = [(s, d) for s in scenarios for d in s.designs]
    for index, (scenario, design) in enumerate(runs):
        if progress is not None:
            progress(f"scenario {scenario.name} / {design}", index, len(runs))
        outcome: Outcome = await run_scenario(scenario, design, replace_dir(settings, "scenarios"))
        found.outcomes.append(outcome.to_json())
    return found


def replace_dir(settings: Settings, name: str) -> Settings:
    return replace(settings, data_dir=settings.data_dir / name)


async def _workload(design: str, settings: Settings, orders: int, progress: Progress | None) -> DesignRun:
    here = replace_dir(settings, f"workload/{design}")
    batch = workload.orders(orders, seed=11, prefix=f"report-{design[:5]}")
    stock = workload.stock_for(batch)

    def advance(done: int, total: int) -> None:
        if progress is not None:
            progress(f"workload / {design}", done, total)

    async with open_design(design, here, prepare=lambda s: s.inventory.set_stock(stock)) as running:
        result = await run_orders(running.design, batch, concurrency=32, progress=advance, timeout=600)
        views = await asyncio.to_thread(lambda: [running.services.orders.get(o.order_id) for o in batch])
    latencies = [
        float(v["decidedAt"]) - float(v["placedAt"])
        for v in views
        if v is not None and v["decidedAt"] is not None
    ]
    telemetry.flush()
    spans = list(telemetry.read_spans(telemetry.traces_dir(here)))
    roots = [s for s in spans if s["name"].startswith("order ") and s["attributes"].get("order.id")]
    example = roots[len(roots) // 2]["attributes"]["order.id"] if roots else ""
    example_trace = next((r["traceId"] for r in roots if r["attributes"]["order.id"] == example), "")
    components = sorted(
        {str(s["attributes"].get("stepdance.component", "")) for s in spans if s["traceId"] == example_trace}
        - {""}
    )
    return DesignRun(
        design=design,
        orders=len(batch),
        completed=result.completed,
        cancelled=result.cancelled,
        orders_per_second=round(result.orders_per_second, 1),
        p50_ms=round(result.p50 * 1000, 1),
        p99_ms=round(result.p99 * 1000, 1),
        latencies=[round(x, 5) for x in latencies],
        spans_per_order=round(len(spans) / len(roots), 1) if roots else 0.0,
        components=components,
        example_order=example,
    )
