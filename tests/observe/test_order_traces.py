"""One order is one trace in every design, for real: the orders placed through each design on the embedded
default, then each order's trace read back from the span files. Every span of it hangs from the order's
root (no parent missing), and the parts each design runs appear in it: the engine's execution, states and
tasks; the bus's publishes and deliveries; each service's operation. ``stepdance trace`` prints it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepdance import telemetry
from stepdance.cli.main import app
from stepdance.observe import OrderTrace, order_traces
from stepdance.order import workload
from stepdance.order.deployment import open_design
from stepdance.order.faults import Faults, Rule
from stepdance.order.run import run_orders
from stepdance.settings import Settings
from tests.order.designs.saga_checks import all_notified, eventually

SERVICES = {"orders", "payment", "inventory", "notification"}
EXPECTED = {
    "orchestrated": ({"engine"}, ["execution", "task ChargePayment", "ChargePayment", "payment.charge"]),
    "choreographed": ({"bus"}, ["publish OrderPlaced", "deliver OrderPlaced to", "payment.charge"]),
    "hybrid": (
        {"engine", "bus"},
        ["execution", "task PublishCompleted", "publish OrderCompleted", "deliver OrderCompleted to"],
    ),
}


async def _run(design: str, tmp_path: Path) -> list[str]:
    batch = workload.orders(6, decline_rate=0.0, out_of_stock_rate=0.0, seed=5, prefix=f"tr-{design}")
    stock = workload.stock_for(batch)
    settings = Settings(data_dir=tmp_path)
    async with open_design(design, settings, prepare=lambda s: s.inventory.set_stock(stock)) as running:
        result = await run_orders(running.design, batch, concurrency=3, timeout=60)
        assert result.completed == len(batch)
        await eventually(lambda: all_notified(running.services, batch))
    telemetry.flush()
    return [o.order_id for o in batch]


def _check_connected(trace: OrderTrace) -> None:
    ids = {r.span_id for r in trace.rows}
    roots = [r for r in trace.rows if r.depth == 0]
    assert [r.name for r in roots] == [f"order {trace.order_id}"], [r.name for r in roots]
    assert all(r.parent_id in ids for r in trace.rows if r.depth > 0)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("design", ["orchestrated", "choreographed", "hybrid"])
async def test_every_order_is_one_connected_trace_through_every_part(design: str, tmp_path: Path) -> None:
    order_ids = await _run(design, tmp_path)
    parts, names = EXPECTED[design]
    for order_id in order_ids:
        (trace,) = order_traces(tmp_path, order_id)
        assert trace.design == design
        _check_connected(trace)
        components = {r.component for r in trace.rows}
        assert SERVICES | parts <= components, components
        for name in names:
            assert any(r.name.startswith(name) for r in trace.rows), (name, [r.name for r in trace.rows])
        assert not trace.errors
        orders = {r.attributes.get("order.id") for r in trace.rows if r.component in SERVICES}
        assert orders == {order_id}  # no other order's work hangs in this trace
    if design != "orchestrated":  # the order's id is the correlation id its events carry
        (trace,) = order_traces(tmp_path, order_ids[0])
        conversation = {
            r.attributes.get("messaging.message.conversation_id") for r in trace.rows if r.component == "bus"
        }
        assert conversation == {order_ids[0]}


@pytest.mark.timeout(120)
async def test_a_failed_attempt_shows_in_the_trace_and_the_command_prints_it(tmp_path: Path) -> None:
    batch = workload.orders(2, decline_rate=0.0, out_of_stock_rate=0.0, seed=1, prefix="tr-cli")
    stock = workload.stock_for(batch)
    injected = Faults(rules=[Rule("payment", "charge", "transient", calls=frozenset({1}))], seed=1)
    settings = Settings(data_dir=tmp_path, retry_scale=0.01)
    async with open_design(
        "orchestrated", settings, faults=injected, prepare=lambda s: s.inventory.set_stock(stock)
    ) as running:
        injected.arm()
        await run_orders(running.design, batch, concurrency=1, timeout=60)
    telemetry.flush()
    (trace,) = order_traces(tmp_path, batch[0].order_id)
    failed = [r for r in trace.errors if r.name == "task ChargePayment"]
    assert len(failed) == 1 and "ServiceUnavailable" in (failed[0].error or "")
    assert sum(r.name == "task ChargePayment" for r in trace.rows) == 2  # the retry, in the same trace

    printed = CliRunner().invoke(app, ["trace", batch[0].order_id, "--data-dir", str(tmp_path)])
    assert printed.exit_code == 0, printed.output
    assert f"order {batch[0].order_id}, orchestrated" in printed.output and "2 failed" in printed.output
    for text in ("engine", "payment", "ChargePayment ✗", "task ChargePayment: ServiceUnavailable: payment"):
        assert text in printed.output
    as_json = CliRunner().invoke(app, ["trace", batch[0].order_id, "--data-dir", str(tmp_path), "--json"])
    (shown,) = json.loads(as_json.output)
    assert shown["traceId"] == trace.trace_id and len(shown["spans"]) == len(trace.rows)

    missing = CliRunner().invoke(app, ["trace", "no-such-order", "--data-dir", str(tmp_path)])
    assert missing.exit_code == 1 and "no trace of order no-such-order" in missing.output

    out = tmp_path / "drawn"
    args = ["diagram", "--design", "orchestrated", "--order", batch[0].order_id, "--format", "svg"]
    args += ["--data-dir", str(tmp_path), "--out", str(out)]
    drawn = await asyncio.to_thread(CliRunner().invoke, app, args)  # it runs a loop of its own
    assert drawn.exit_code == 0, drawn.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"orchestrated-{w}.svg" for w in ("architecture", "sequence", "states", "timeline")]
    states = (out / "orchestrated-states.svg").read_text()
    assert "class='node retried'><title>ChargePayment</title>" in states  # the failed attempt, retried
    assert "class='node taken'><title>ReserveStock</title>" in states
    assert "payment.charge" in (out / "orchestrated-sequence.svg").read_text()
