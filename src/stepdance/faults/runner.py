"""Run a scenario on a design and judge it: the workload placed with the scenario's faults injected, then
the orders' outcomes against the expectations and the services' data against the invariants.

::

    outcome = await run_scenario(load_scenario(path), "choreographed", settings)
    outcome.passed, outcome.violations, outcome.recover_seconds

Each run gets fresh SQLite files under ``<data dir>/scenarios/<scenario>/<design>`` unless the settings
name servers (then fresh order ids keep runs apart on the shared databases).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stepdance.faults import evidence, recovery
from stepdance.faults.invariants import Snapshot, Violation, check
from stepdance.faults.poison import inject, poison_id
from stepdance.faults.processes import Supervised
from stepdance.faults.scenario import BUS, WORKLOAD, Expect, Fault, Scenario
from stepdance.faults.servers import PrivateNats, PrivatePostgres, PrivateServer, ServerUnavailable
from stepdance.faults.transport import MisbehavingTransport, Misbehaviour, Twice
from stepdance.order import workload
from stepdance.order.channels import DEFAULT_FILE, FileChannel
from stepdance.order.deployment import open_design
from stepdance.order.designs.choreography_subscriptions import PARTICIPANTS
from stepdance.order.faults import Faults
from stepdance.order.model import Order
from stepdance.order.run import run_orders
from stepdance.settings import Settings

NOTIFY_POLL = 0.05
KILL_LEASE_SECONDS = 2.0
KILL_ACK_WAIT_SECONDS = 3.0
Progress = Callable[[int, int], None]


@dataclass
class Outcome:
    """How one scenario went on one design."""

    scenario: str
    design: str
    orders: int
    completed: int
    cancelled: int
    intervention: dict[str, str]  # order id -> why a person must act
    expected: dict[str, int]
    violations: list[Violation]
    mismatches: list[str]  # expectations not met
    seconds: float  # the run, placement to the last decision
    recover_seconds: float | None  # first fault struck -> last struck order settled (None: nothing struck,
    # or some struck order is still left for a person)
    strikes: int  # faults that struck a call
    retries: int  # service calls made again for an order
    messages: int  # notifications that left the process (different messages)
    recovered: list[str] = field(default_factory=list)  # what the scenario's recovery did
    injected: dict[str, int] = field(default_factory=dict)  # delivery faults, as they happened
    skipped: str | None = None  # why the run could not be made here (a private server it needs)
    resent: int = 0  # messages handed to the channel again, same Message-ID (see invariants.notified_twice)

    @property
    def passed(self) -> bool:
        return self.skipped is None and not self.violations and not self.mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "design": self.design,
            "passed": self.passed,
            "orders": self.orders,
            "completed": self.completed,
            "cancelled": self.cancelled,
            "intervention": self.intervention,
            "expected": self.expected,
            "violations": [
                {"rule": v.rule, "orders": list(v.orders), "detail": v.detail} for v in self.violations
            ],
            "mismatches": self.mismatches,
            "seconds": round(self.seconds, 3),
            "recoverSeconds": None if self.recover_seconds is None else round(self.recover_seconds, 3),
            "strikes": self.strikes,
            "retries": self.retries,
            "messages": self.messages,
            "recovered": self.recovered,
            "injected": self.injected,
            "skipped": self.skipped,
            "resent": self.resent,
        }


async def run_scenario(
    scenario: Scenario, design: str, settings: Settings, *, progress: Progress | None = None
) -> Outcome:
    """Run ``scenario`` on ``design`` (see the module docstring); never raises for what the run found."""
    tag = uuid.uuid4().hex[:6]
    where = (settings.data_dir / "scenarios" / scenario.name / f"{design}-{tag}").resolve()
    local = replace(settings, data_dir=where, retry_scale=settings.retry_scale * scenario.retry_scale)
    kill = next(iter(scenario.of_kind("process_kill")), None)
    if kill is not None:  # a dead process's work is taken over within seconds, not the production minute
        local = replace(local, lease_seconds=KILL_LEASE_SECONDS, ack_wait_seconds=KILL_ACK_WAIT_SECONDS)
    w = scenario.workload
    batch = workload.orders(
        w.orders,
        decline_rate=w.decline_rate,
        out_of_stock_rate=w.out_of_stock_rate,
        seed=w.seed,
        prefix=f"{scenario.name[:20]}-{tag}",
    )
    stock = workload.stock_for(batch)
    restart = next(iter([*scenario.of_kind("broker_restart"), *scenario.of_kind("database_restart")]), None)
    server = _private_server(restart, design, where)
    if server is not None:
        try:
            await asyncio.to_thread(server.start)
        except ServerUnavailable as error:
            await asyncio.to_thread(server.remove)
            return _skipped(scenario, design, str(error))
        if isinstance(server, PrivateNats):
            local = replace(local, bus_url=f"{server.url}?prefix=sd{tag}")
        else:  # every database of the design: the services', the engine's store, the bus's catalog
            local = replace(local, store_url=server.url, services_url=server.url, catalog_url=server.url)
    try:
        return await _run(scenario, design, local, tag, batch, stock, kill, server, restart, progress)
    finally:
        if server is not None:
            await asyncio.to_thread(server.remove)


def _private_server(restart: Fault | None, design: str, where: Path) -> PrivateServer | None:
    """The server a restart fault kills, not started yet; None when the scenario restarts nothing or the
    design has no such server (the orchestrated design has no broker)."""
    if restart is None:
        return None
    if restart.kind == "database_restart":
        return PrivatePostgres(where / "postgres")
    return PrivateNats(where / "nats") if design in ("choreographed", "hybrid") else None


async def _run(
    scenario: Scenario,
    design: str,
    local: Settings,
    tag: str,
    batch: list[Order],
    stock: dict[str, int],
    kill: Fault | None,
    server: PrivateServer | None,
    restart: Fault | None,
    progress: Progress | None,
) -> Outcome:
    where, w, expect = local.data_dir, scenario.workload, scenario.expectation(design)
    faults = Faults(rules=scenario.rules, seed=w.seed, count_calls=True)
    channel = FileChannel(where / DEFAULT_FILE)  # where a worker or service process of the run writes too
    misbehaviour = _misbehaviour(scenario)
    twice: list[Twice] = []

    def prepare(services: Any) -> None:
        services.inventory.set_stock(stock)
        for fault in scenario.of_kind("duplicate"):
            if fault.target != BUS:
                service, operation = fault.target.split(".")
                twice.append(Twice(getattr(services, service), operation, fault.rate, w.seed))
                setattr(services, service, twice[-1])

    async with (
        open_design(
            design,
            local,
            faults=faults,
            channel=channel,
            prepare=prepare,
            wrap_transport=(lambda t: MisbehavingTransport(t, misbehaviour)) if misbehaviour else None,
            here=[p for p in PARTICIPANTS if p != kill.target]
            if kill and design == "choreographed"
            else None,
            worker=kill is None or design == "choreographed",
        ) as running,
        _supervised(kill, design, running.settings) as supervised,  # --bus pubsub: the endpoint started
    ):
        deadline = time.monotonic() + expect.seconds
        faults.arm()
        armed_at = time.time()
        outage = (
            asyncio.create_task(server.outage(*restart.window))
            if server is not None and restart is not None and restart.window is not None
            else None
        )
        design_running = running.design

        async def stuck(order_ids: list[str]) -> Collection[str]:
            found = await evidence.interventions(design_running, order_ids)
            return await asyncio.to_thread(_still_pending, running.services, found)

        poison = [poison_id(tag, i) for i in range(sum(f.count for f in scenario.of_kind("malformed")))]
        injecting = asyncio.create_task(_inject(running.design, poison))
        result = await run_orders(
            running.design,
            batch,
            concurrency=w.concurrency,
            progress=progress,
            timeout=expect.seconds,
            stuck=stuck,
        )
        await injecting
        if outage is not None:
            await outage
        accepted = [o for o in batch if o.order_id in result.placed]
        await _settled(running.services, running.design, accepted, deadline)
        listed = await _listed(running.services, running.design, accepted)
        recovered: list[str] = []
        if scenario.recover and listed:
            await _faults_over(faults, scenario)
            for action in scenario.recover:
                recovered.append(await recovery.perform(action, running.design, listed))
            await _settled(running.services, running.design, accepted, deadline, waiting_for_all=True)
            listed = await _listed(running.services, running.design, accepted)
        found = await asyncio.to_thread(evidence.snapshot, running.services, accepted, stock, channel, listed)
        set_aside = await _set_aside(running.design, poison, deadline)
    kills = supervised.kills if supervised is not None else []
    if server is not None and server.killed_at is not None:
        kills = [server.killed_at]  # recovery counts from the server's crash
    violations = check(found)
    injected = {
        "duplicated messages": len(misbehaviour.duplicated) if misbehaviour else 0,
        "held-back messages": len(misbehaviour.held) if misbehaviour else 0,
        "calls made twice": sum(len(t.twice) for t in twice),
        "poison orders": len(poison),
        "poison set aside": len(set_aside),
        "process kills": len(supervised.kills) if supervised is not None else 0,
        "broker restarts": 1 if outage is not None and isinstance(server, PrivateNats) else 0,
        "database restarts": 1 if outage is not None and isinstance(server, PrivatePostgres) else 0,
    }
    problems = _mismatches(expect, batch, stock, result.completed, result.cancelled, listed)
    unhandled = [p for p in poison if p not in set_aside]
    if unhandled:
        problems.append(f"poison not set aside (no dead letter, no failed execution): {', '.join(unhandled)}")
    if len(accepted) < len(batch):
        problems.append(f"{len(batch) - len(accepted)} orders never placed: the run timed out")
    if kill is not None and supervised is not None and not supervised.kills:
        problems.append(f"the process was never killed: {kill.point} was not reached {kill.count} times")
    struck = {s.order_id for s in faults.strikes}
    return Outcome(
        scenario=scenario.name,
        design=design,
        orders=len(batch),
        completed=result.completed,
        cancelled=result.cancelled,
        intervention=listed,
        expected=_expected(expect, batch, stock),
        violations=violations,
        mismatches=problems,
        seconds=result.seconds,
        recover_seconds=None
        if struck & listed.keys()
        else _after_kill(kills[0], found)
        if kills
        else _recovery(faults, armed_at, struck, found),
        strikes=len(faults.strikes),
        retries=faults.retries(),
        messages=found.messages,
        resent=found.resent,
        recovered=recovered,
        injected={k: v for k, v in injected.items() if v},
    )


async def _settled(
    services: Any, design: Any, batch: Sequence[Order], deadline: float, *, waiting_for_all: bool = False
) -> None:
    """Until every order was decided and told its outcome, or listed for a person (unless
    ``waiting_for_all``: after a recovery, only for all), or the deadline: messages go out after the
    decision, and a notification service that is down catches up later."""
    while time.monotonic() < deadline:
        undecided, silent = await asyncio.to_thread(_unsettled, services, batch)
        if not undecided and not silent:
            return
        if not waiting_for_all:
            listed = await _listed(services, design, batch, (undecided, silent))
            if len(listed.keys() & {*undecided, *silent}) == len(undecided) + len(silent):
                return
        await asyncio.sleep(NOTIFY_POLL)


@asynccontextmanager
async def _supervised(
    kill: Fault | None, design: str, settings: Settings
) -> AsyncIterator[Supervised | None]:
    """The process a process_kill fault kills, started armed (and restarted by its supervisor); None when
    the scenario kills nothing."""
    if kill is None:
        yield None
        return
    args = ["service", kill.target] if design == "choreographed" else ["worker", "--saga"]
    supervised = Supervised(args, settings, f"{kill.point}:{kill.count}")
    await supervised.start()
    try:
        yield supervised
    finally:
        await supervised.stop()


def _after_kill(killed_at: float, found: Snapshot) -> float:
    """Seconds from the kill until the last order placed before it was settled: what the dead process or
    broker had in hand."""
    held = [oid for oid, view in found.view.items() if float(view["placedAt"]) <= killed_at]
    return _settled_after(killed_at, held, found)


def _settled_after(start: float, order_ids: Iterable[str], found: Snapshot) -> float:
    """Seconds from ``start`` until the last of ``order_ids`` was settled (decided and told), by the times
    the services recorded."""
    settled = [start]
    for oid in order_ids:
        settled += [float((found.view.get(oid) or {}).get("decidedAt") or 0.0), found.sent_at.get(oid, 0.0)]
    return max(settled) - start


def _skipped(scenario: Scenario, design: str, why: str) -> Outcome:
    return Outcome(
        scenario=scenario.name,
        design=design,
        orders=0,
        completed=0,
        cancelled=0,
        intervention={},
        expected={},
        violations=[],
        mismatches=[],
        seconds=0.0,
        recover_seconds=None,
        strikes=0,
        retries=0,
        messages=0,
        skipped=why,
    )


def _misbehaviour(scenario: Scenario) -> Misbehaviour | None:
    """What the bus's transport must do wrong, or None when nothing."""
    duplicate = [f.rate for f in scenario.of_kind("duplicate") if f.target == BUS]
    held = scenario.of_kind("out_of_order")
    if not duplicate and not held:
        return None
    return Misbehaviour(
        duplicate_rate=max(duplicate, default=0.0),
        hold_rate=max((f.rate for f in held), default=0.0),
        hold_seconds=max((f.seconds for f in held), default=0.0),
        seed=scenario.workload.seed,
    )


async def _inject(design: Any, poison: list[str]) -> None:
    """The poison orders, one every few milliseconds, while the good ones run."""
    for order_id in poison:
        await inject(design, order_id)
        await asyncio.sleep(0.01)


async def _set_aside(design: Any, poison: list[str], deadline: float) -> dict[str, str]:
    """Which poison orders the design put aside (a dead letter, a failed execution), waiting for them until
    the deadline (a failed execution may first retry its compensation)."""
    found: dict[str, str] = {}
    while poison and time.monotonic() < deadline:
        found = await evidence.interventions(design, poison)
        if len(found) == len(poison):
            break
        await asyncio.sleep(NOTIFY_POLL * 4)
    return found


async def _faults_over(faults: Faults, scenario: Scenario) -> None:
    """Until the last window of the scenario's faults closed: a recovery made while a service is still
    down would only fail again."""
    ends = [r.window[1] for r in scenario.rules if r.window is not None]
    if ends:
        await asyncio.sleep(max(0.0, max(ends) - (faults.clock() - faults.armed)))


async def _listed(
    services: Any, design: Any, batch: Sequence[Order], unsettled: tuple[list[str], list[str]] | None = None
) -> dict[str, str]:
    """The orders of ``batch`` a person must act on: any with a dead letter, undecided ones whose execution
    stopped, decided ones whose execution will never tell them. ``unsettled``: :func:`_unsettled`'s
    answer, when the caller has it."""
    if unsettled is None:
        unsettled = await asyncio.to_thread(_unsettled, services, batch)
    undecided, silent = unsettled
    letters = await evidence.dead_lettered(design, [o.order_id for o in batch])
    stuck = await evidence.stuck_executions(design, [o for o in undecided if o not in letters])
    stuck = {oid: stuck[oid] for oid in await asyncio.to_thread(_still_pending, services, stuck)}
    untold = await evidence.stuck_executions(design, [o for o in silent if o not in letters], decided=True)
    return {**letters, **stuck, **untold}


def _still_pending(services: Any, found: dict[str, str]) -> list[str]:
    """Those of ``found`` the view still shows pending (read after the evidence: see interventions)."""
    return [oid for oid in found if (services.orders.get(oid) or {}).get("status") == "pending"]


def _unsettled(services: Any, batch: Sequence[Order]) -> tuple[list[str], list[str]]:
    """The orders of ``batch`` not decided, and those decided and not yet told."""
    told = {r["orderId"] for r in services.notification.sent()}
    undecided, silent = [], []
    for order in batch:
        view = services.orders.get(order.order_id)
        if view is None or view["status"] == "pending":
            undecided.append(order.order_id)
        elif order.order_id not in told:
            silent.append(order.order_id)
    return undecided, silent


def _expected(expect: Expect, batch: Sequence[Order], stock: dict[str, int]) -> dict[str, int]:
    mix = workload.expected(batch, stock)
    return {
        "completed": mix["completed"] if expect.completed == WORKLOAD else int(expect.completed),
        "cancelled": mix["cancelled"] if expect.cancelled == WORKLOAD else int(expect.cancelled),
        "intervention": expect.intervention,
    }


def _mismatches(
    expect: Expect,
    batch: Sequence[Order],
    stock: dict[str, int],
    completed: int,
    cancelled: int,
    listed: dict[str, str],
) -> list[str]:
    want = _expected(expect, batch, stock)
    found = {"completed": completed, "cancelled": cancelled, "intervention": len(listed)}
    return [f"{key}: {found[key]}, expected {want[key]}" for key in want if found[key] != want[key]]


def _recovery(faults: Faults, armed_at: float, struck: set[str], found: Snapshot) -> float | None:
    """Seconds from the first strike until the last struck order was settled; None when nothing struck."""
    if not faults.strikes:
        return None
    return _settled_after(armed_at + min(s.at for s in faults.strikes), struck, found)
