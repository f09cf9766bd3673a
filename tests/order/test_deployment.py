"""Opening a design from settings (what ``stepdance run``, the demo and bench/saga.py share): every design
on the embedded default, the hybrid and the choreography on PostgreSQL over each broker, and an unreachable
server or a wrong URL named before anything starts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from stepdance.order import workload
from stepdance.order.audit import audit
from stepdance.order.deployment import DeploymentError, open_design, unreachable
from stepdance.order.run import run_orders
from stepdance.settings import Settings
from tests.bus.transports.backends import clean_shared_servers, url_for
from tests.order.conftest import drop_schemas
from tests.order.designs.saga_checks import all_notified, eventually
from tests.store.backends import POSTGRES, postgres_reachable

__all__ = ["clean_shared_servers"]


async def _run_and_audit(design: str, settings: Settings, count: int = 80) -> None:
    batch = workload.orders(
        count, decline_rate=0.1, out_of_stock_rate=0.1, seed=3, prefix=f"d{uuid.uuid4().hex[:4]}"
    )
    stock = workload.stock_for(batch)
    async with open_design(design, settings, prepare=lambda s: s.inventory.set_stock(stock)) as running:
        result = await run_orders(running.design, batch, concurrency=32, timeout=60)
        await eventually(lambda: all_notified(running.services, batch))
        problems = audit(running.services, batch, stock)
    expected = workload.expected(batch, stock)
    assert (result.completed, result.cancelled, result.undecided) == (
        expected["completed"],
        expected["cancelled"],
        0,
    )
    assert problems == []


@pytest.mark.parametrize("design", ["orchestrated", "choreographed", "hybrid"])
async def test_every_design_runs_on_the_embedded_default(design: str, tmp_path: Path) -> None:
    await _run_and_audit(design, Settings(data_dir=tmp_path))


@pytest.mark.postgres
@pytest.mark.parametrize("broker", ["nats", "redis", "rabbitmq"])
@pytest.mark.parametrize("design", ["choreographed", "hybrid"])
async def test_the_bus_designs_run_on_postgresql_over_each_broker(
    design: str, broker: str, tmp_path: Path
) -> None:
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    bus = url_for(broker, tmp_path)  # skips naming the broker when it is down
    name = f"sd_deploy_{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path).with_urls(
        store=f"{POSTGRES}?schema={name}_engine",
        services=f"{POSTGRES}?schema={name}",
        catalog=f"{POSTGRES}?schema={name}_bus",
        bus=bus,
    )
    try:
        await _run_and_audit(design, settings, count=60)
    finally:
        drop_schemas(name)


async def test_an_unknown_design_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="unknown design 'sideways'"):
        async with open_design("sideways", Settings(data_dir=tmp_path)):
            pass


@pytest.mark.parametrize(
    ("urls", "said"),
    [
        ({"bus": "nats://127.0.0.1:1"}, "cannot reach the bus at nats://127.0.0.1:1"),
        ({"catalog": "postgresql://127.0.0.1:1/x"}, "cannot reach the bus catalog"),
        ({"services": "postgresql://127.0.0.1:1/x"}, "cannot reach the services' databases"),
        ({"bus": "pigeon://x"}, "cannot open the bus at pigeon://x"),
    ],
)
async def test_what_cannot_be_reached_is_named_and_nothing_is_left_open(
    urls: dict[str, str], said: str, tmp_path: Path
) -> None:
    with pytest.raises(DeploymentError, match=said.replace("'", ".")):
        async with open_design("hybrid", Settings(data_dir=tmp_path).with_urls(**urls)):
            pass


def test_unreachable_says_why_for_servers_and_nothing_for_files() -> None:
    assert unreachable("nats://127.0.0.1:1") is not None
    assert unreachable("sqlite:///tmp/x.db") is None
    assert unreachable("memory://") is None
