"""Scenarios run for real: the whole catalog on the embedded default for every design, a subset on
PostgreSQL with NATS, and the invariants reading the services' real databases (a tampered ledger is
caught)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert

from stepdance.faults import catalog, check, evidence, parse_scenario, servers
from stepdance.faults.runner import run_scenario
from stepdance.order import workload
from stepdance.order.deployment import open_design
from stepdance.order.payment import ledger_table
from stepdance.order.run import run_orders
from stepdance.settings import Settings
from tests.bus.transports.backends import skip_unless_up
from tests.order.conftest import drop_schemas
from tests.order.designs.saga_checks import all_notified, eventually
from tests.store.backends import POSTGRES, postgres_reachable

CATALOG = {s.name: s for s in catalog()}
RUNS = [(name, design) for name, s in CATALOG.items() for design in s.designs]


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("name", "design"), RUNS, ids=[f"{n}-{d}" for n, d in RUNS])
async def test_every_catalog_scenario_passes_on_the_embedded_default(
    name: str, design: str, tmp_path: Path
) -> None:
    outcome = await run_scenario(CATALOG[name], design, Settings(data_dir=tmp_path))
    if outcome.skipped:
        pytest.skip(outcome.skipped)  # a private server it needs is not installed here
    assert outcome.violations == [] and outcome.mismatches == [], outcome.to_json()
    assert outcome.passed
    assert outcome.completed + outcome.cancelled + len(outcome.intervention) == outcome.orders
    if CATALOG[name].rules:
        assert outcome.strikes > 0
        assert (outcome.recover_seconds is not None) != bool(outcome.intervention)
    assert outcome.messages == outcome.completed + outcome.cancelled
    if not CATALOG[name].of_kind("database_restart"):
        assert outcome.resent == 0  # a message goes out again only when the database fails mid-send


@pytest.mark.postgres
@pytest.mark.timeout(180)
@pytest.mark.parametrize("design", ["orchestrated", "choreographed", "hybrid"])
@pytest.mark.parametrize(
    "name", ["transient-payment-errors", "concurrent-last-units", "database-restart-under-load"]
)
async def test_a_subset_passes_on_postgresql_with_nats(name: str, design: str, tmp_path: Path) -> None:
    """(The database restart moves the databases to a private PostgreSQL of the run's own; the bus stays
    on the shared NATS.)"""
    if name == "database-restart-under-load" and design != "choreographed":
        pytest.skip(
            "orchestrated has no bus; hybrid's runs on the embedded default and its bus side is the "
            "choreography's (kept out for the suite's time)"
        )
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    nats = skip_unless_up("nats")
    schema = f"sd_scen_{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path).with_urls(
        store=f"{POSTGRES}?schema={schema}_engine",
        services=f"{POSTGRES}?schema={schema}",
        catalog=f"{POSTGRES}?schema={schema}_bus",
        bus=f"{nats}?prefix={schema}",
    )
    try:
        outcome = await run_scenario(CATALOG[name], design, settings)
    finally:
        drop_schemas(schema)
    assert outcome.passed, outcome.to_json()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("name", ["transient-payment-errors", "killed-after-charge-before-ack"])
async def test_the_choreography_passes_with_its_events_through_pub_sub(name: str, tmp_path: Path) -> None:
    """``--bus pubsub``: every event crosses Google Pub/Sub's API (an endpoint of the run's own); the killed
    service's process reaches the same endpoint."""
    pytest.importorskip("google.pubsub_v1", reason="google-cloud-pubsub is not installed (stepdance[gcp])")
    settings = Settings(data_dir=tmp_path).with_urls(bus="pubsub")
    outcome = await run_scenario(CATALOG[name], "choreographed", settings)
    assert outcome.passed, outcome.to_json()
    logs = await asyncio.to_thread(lambda: list(tmp_path.rglob("pubsub.db")))
    assert logs  # the endpoint's log: the events went through it


async def test_a_failure_that_retries_cannot_cure_is_listed_for_a_person_or_compensated(
    tmp_path: Path,
) -> None:
    """A permanent charge failure: the orchestration catches it and cancels (nothing was charged); the
    choreography dead-letters the event, and the order is listed for a person with that reason. Either
    way no invariant breaks."""
    scenario = parse_scenario(
        "name: payment-broken\ndesigns: [orchestrated, choreographed]\nworkload: {orders: 12, concurrency: 4}\n"
        "faults:\n  - kind: error\n    target: payment\n    mode: permanent\n    when: {calls: [3, 7]}\n"
        "expect: {seconds: 60}\n"
    )
    orchestrated = await run_scenario(scenario, "orchestrated", Settings(data_dir=tmp_path))
    struck = orchestrated.cancelled
    assert orchestrated.violations == [] and orchestrated.intervention == {}
    assert struck == 2 and orchestrated.completed == 10
    choreographed = await run_scenario(scenario, "choreographed", Settings(data_dir=tmp_path))
    assert choreographed.violations == []
    assert choreographed.completed == 10 and len(choreographed.intervention) == 2
    assert all(
        "dead-lettered" in why and "ServiceFailed" in why for why in choreographed.intervention.values()
    )


async def test_the_invariants_read_the_services_real_data(tmp_path: Path) -> None:
    batch = workload.orders(10, decline_rate=0.0, out_of_stock_rate=0.0, seed=2, prefix="tamper")
    stock = workload.stock_for(batch)
    async with open_design(
        "orchestrated", Settings(data_dir=tmp_path), prepare=lambda s: s.inventory.set_stock(stock)
    ) as running:
        await run_orders(running.design, batch, concurrency=4, timeout=60)
        await eventually(lambda: all_notified(running.services, batch))
        assert check(evidence.snapshot(running.services, batch, stock, None, {})) == []
        victim = batch[3]
        with running.services.payment.engine.begin() as conn:  # a second charge, as a bug would make it
            conn.execute(
                insert(ledger_table).values(
                    order_id=victim.order_id,
                    kind="charge-again",
                    amount_cents=victim.amount_cents,
                    at=time.time(),
                )
            )
        found = check(evidence.snapshot(running.services, batch, stock, None, {}))
    assert [(v.rule, v.orders) for v in found] == [("paid_in_full", (victim.order_id,))]


async def test_a_run_that_needs_a_missing_server_is_skipped_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no nats-server to be found
    outcome = await run_scenario(
        CATALOG["broker-restart-under-load"], "choreographed", Settings(data_dir=tmp_path)
    )
    assert outcome.skipped is not None and "nats-server is not installed" in outcome.skipped
    assert not outcome.passed and outcome.to_json()["skipped"] == outcome.skipped
    monkeypatch.setattr(servers, "POSTGRES_DIRS", str(tmp_path))
    outcome = await run_scenario(
        CATALOG["database-restart-under-load"], "hybrid", Settings(data_dir=tmp_path)
    )
    assert outcome.skipped is not None and "initdb is not installed" in outcome.skipped
