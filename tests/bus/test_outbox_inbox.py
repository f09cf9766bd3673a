"""Outbox and inbox in a service's own database (SQLite, and PostgreSQL when it runs): the state change and
its events commit together, a crash before the relay loses nothing, a rolled-back change publishes
nothing, and a redelivered event has one effect."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    text,
    update,
)

from stepdance.bus import (
    Bus,
    Client,
    DeliveryContext,
    GroupRolledBack,
    Inbox,
    Outbox,
    OutboxEntryError,
    OutboxRelay,
    handler_arn,
)
from stepdance.bus.outbox import _outboxes_of
from tests.bus.core_fixtures import SETTINGS, entry, eventually
from tests.engine.crash_harness import wait_until
from tests.store.backends import POSTGRES, postgres_reachable


class Boom(Exception):
    pass


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """The service's own database and a table-name suffix of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}")
    else:
        if not postgres_reachable():
            pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
        engine = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine, suffix
    if request.param == "postgres":
        with engine.begin() as conn:
            for name in ("orders", "outbox", "inbox", "stock"):
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}_{suffix}"'))
    engine.dispose()


def orders_table(engine: Engine, suffix: str) -> Table:
    table = Table(
        f"orders_{suffix}",
        MetaData(),
        Column("id", String(64), primary_key=True),
        Column("status", String(32)),
    )
    table.metadata.create_all(engine)
    return table


def placed(bus_name: str, order: str) -> dict[str, Any]:
    return entry(bus_name, {"order": order}, DetailType="OrderPlaced")


async def test_a_rolled_back_transaction_publishes_nothing(service_db: tuple[Engine, str], bus: Bus) -> None:
    engine, suffix = service_db
    orders, outbox = orders_table(engine, suffix), Outbox(engine, table=f"outbox_{suffix}")
    with pytest.raises(Boom), outbox.transaction() as tx:
        tx.execute(insert(orders).values(id="o-1", status="PLACED"))
        tx.publish(placed("default", "o-1"))
        raise Boom
    assert outbox.pending(10) == []
    assert await OutboxRelay(outbox, bus).relay_once() == 0
    with engine.connect() as conn:
        assert conn.execute(select(orders)).all() == []


async def test_state_and_events_commit_together_and_are_relayed(
    service_db: tuple[Engine, str], bus: Bus, events: Client, bus_name: str
) -> None:
    engine, suffix = service_db
    orders, outbox = orders_table(engine, suffix), Outbox(engine, table=f"outbox_{suffix}")
    got: asyncio.Queue[tuple[Any, DeliveryContext]] = asyncio.Queue()
    bus.register("placed", lambda event, context: got.put_nowait((event, context)))
    await events.put_rule(
        Name="p", EventBusName=bus_name, EventPattern=json.dumps({"detail-type": ["OrderPlaced"]})
    )
    target = {"Id": "t", "Arn": handler_arn(SETTINGS, "placed")}
    await events.put_targets(Rule="p", EventBusName=bus_name, Targets=[target])
    async with OutboxRelay(outbox, bus, poll_seconds=5.0):  # the commit wakes it, not the poll
        with outbox.transaction() as tx:
            tx.execute(insert(orders).values(id="o-1", status="PLACED"))
            event_id = tx.publish(placed(bus_name, "o-1"), headers={"correlation-id": "order-o-1"})
        event, context = await asyncio.wait_for(got.get(), 10)
        await eventually(lambda: outbox.pending(10) == [])  # the relay deletes the row once published
    assert event["id"] == event_id and event["detail"] == {"order": "o-1"}
    assert context.headers["correlation-id"] == "order-o-1"


CRASHING_SERVICE = """
import os, signal, sys
from sqlalchemy import create_engine, insert, Table, MetaData, Column, String
from stepdance.bus import Outbox
url, suffix, bus = sys.argv[1:4]
engine = create_engine(url)
orders = Table(f"orders_{suffix}", MetaData(), Column("id", String(64), primary_key=True), Column("status", String(32)))
outbox = Outbox(engine, table=f"outbox_{suffix}")
with outbox.transaction() as tx:
    tx.execute(insert(orders).values(id="o-1", status="PLACED"))
    event_id = tx.publish({"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": "o-1"}',
                           "EventBusName": bus})
print(event_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies after the commit, before any relay ran
"""


async def test_a_crash_before_the_relay_still_publishes_after_restart(
    service_db: tuple[Engine, str], bus: Bus, events: Client, bus_name: str
) -> None:
    engine, suffix = service_db
    orders_table(engine, suffix)
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    crashed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CRASHING_SERVICE, url, suffix, bus_name],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    event_id = crashed.stdout.strip()
    got: asyncio.Queue[Any] = asyncio.Queue()
    bus.register("placed", got.put_nowait)
    await events.put_rule(Name="p", EventBusName=bus_name, EventPattern=json.dumps({"source": ["shop"]}))
    await events.put_targets(
        Rule="p", EventBusName=bus_name, Targets=[{"Id": "t", "Arn": handler_arn(SETTINGS, "placed")}]
    )
    restarted = Outbox(engine, table=f"outbox_{suffix}")  # the service comes back
    async with OutboxRelay(restarted, bus, poll_seconds=0.05):
        assert (await asyncio.wait_for(got.get(), 10))["id"] == event_id


async def test_an_entry_the_bus_refuses_stays_with_its_error(
    service_db: tuple[Engine, str], bus: Bus
) -> None:
    engine, suffix = service_db
    outbox = Outbox(engine, table=f"outbox_{suffix}")
    with pytest.raises(OutboxEntryError, match="MalformedDetail"), outbox.transaction() as tx:
        tx.publish(entry(Detail="[]"))
    with outbox.transaction() as tx:
        tx.publish(entry("no-such-bus"))
        tx.publish(entry())
    assert await OutboxRelay(outbox, bus).relay_once() == 1
    assert outbox.pending(10) == []
    with engine.connect() as conn:
        [error] = conn.execute(select(outbox.table.c.error)).scalars().all()
    assert error == "ResourceNotFoundException: Event bus no-such-bus does not exist."


def stock_table(engine: Engine, suffix: str) -> Table:
    table = Table(
        f"stock_{suffix}",
        MetaData(),
        Column("sku", String(32), primary_key=True),
        Column("reserved", Integer),
    )
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table).values(sku="sku-1", reserved=0))
    return table


def reserved(engine: Engine, stock: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(stock.c.reserved)).scalar_one())


def test_an_event_handled_twice_has_one_effect(service_db: tuple[Engine, str]) -> None:
    engine, suffix = service_db
    stock, inbox = stock_table(engine, suffix), Inbox(engine, consumer="inventory", table=f"inbox_{suffix}")
    event = {"id": "e-1", "detail": {"sku": "sku-1"}}

    def handle() -> None:
        with inbox.once(event) as tx:
            if tx is not None:
                tx.execute(update(stock).values(reserved=stock.c.reserved + 1))

    handle()
    handle()
    assert reserved(engine, stock) == 1 and inbox.handled(event)
    with inbox.once({**event, "replay-name": "again"}) as tx:
        assert tx is not None  # a replay is handled again


def test_a_failed_handling_is_not_recorded(service_db: tuple[Engine, str]) -> None:
    engine, suffix = service_db
    stock, inbox = stock_table(engine, suffix), Inbox(engine, table=f"inbox_{suffix}")
    with pytest.raises(Boom), inbox.once("e-1") as tx:
        assert tx is not None
        tx.execute(update(stock).values(reserved=stock.c.reserved + 1))
        raise Boom
    assert reserved(engine, stock) == 0 and not inbox.handled("e-1")
    with inbox.once("e-1") as tx:
        assert tx is not None


def test_concurrent_deliveries_of_one_event_have_one_effect(service_db: tuple[Engine, str]) -> None:
    engine, suffix = service_db
    stock, inbox = stock_table(engine, suffix), Inbox(engine, table=f"inbox_{suffix}")
    barrier = threading.Barrier(4)

    def handle() -> None:
        barrier.wait()
        with inbox.once("e-1") as tx:
            if tx is not None:
                tx.execute(update(stock).values(reserved=stock.c.reserved + 1))

    threads = [threading.Thread(target=handle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert reserved(engine, stock) == 1


async def test_a_relay_crash_after_publishing_republishes_and_the_inbox_absorbs_it(
    service_db: tuple[Engine, str], bus: Bus, events: Client, bus_name: str
) -> None:
    engine, suffix = service_db
    outbox = Outbox(engine, table=f"outbox_{suffix}")
    stock, inbox = stock_table(engine, suffix), Inbox(engine, table=f"inbox_{suffix}")
    deliveries: list[str] = []
    caused: list[str] = []

    def reserve(event: Any, context: DeliveryContext) -> None:
        deliveries.append(event["id"])
        with inbox.once(context) as tx:
            if tx is None:
                return
            tx.execute(update(stock).values(reserved=stock.c.reserved + 1))
            caused.append(outbox.publish(tx, entry(bus_name, DetailType="StockReserved"), caused_by=context))

    reserved_events: asyncio.Queue[DeliveryContext] = asyncio.Queue()
    bus.register("reserve", reserve)
    bus.register("reserved", lambda event, context: reserved_events.put_nowait(context))
    for rule, detail_type, handler in (("p", "OrderPlaced", "reserve"), ("r", "StockReserved", "reserved")):
        pattern = json.dumps({"detail-type": [detail_type]})
        await events.put_rule(Name=rule, EventBusName=bus_name, EventPattern=pattern)
        target = {"Id": "t", "Arn": handler_arn(SETTINGS, handler)}
        await events.put_targets(Rule=rule, EventBusName=bus_name, Targets=[target])
    with outbox.transaction() as tx:
        event_id = tx.publish(placed(bus_name, "o-1"))
    relay = OutboxRelay(outbox, bus)
    real_published = outbox.published
    outbox.published = lambda seqs: (_ for _ in ()).throw(Boom("the relay died"))  # type: ignore[method-assign]
    with pytest.raises(Boom):
        await relay.relay_once()  # the event is on the bus, the row is still there
    outbox.published = real_published  # type: ignore[method-assign]
    async with OutboxRelay(outbox, bus, poll_seconds=0.05):  # the restarted relay publishes it again
        await eventually(lambda: deliveries == [event_id, event_id])
        context = await asyncio.wait_for(reserved_events.get(), 10)
    assert reserved(engine, stock) == 1  # two deliveries, one effect
    assert context.event_id == caused[0] and len(caused) == 1
    assert context.headers["causation-id"] == event_id and context.headers["correlation-id"] == event_id


def stock_and_inbox_with_e0_handled(engine: Engine, suffix: str) -> tuple[Table, Inbox]:
    stock, inbox = stock_table(engine, suffix), Inbox(engine, table=f"inbox_{suffix}")
    with inbox.once("e-0") as tx:
        assert tx is not None  # handled before the batch
    return stock, inbox


def test_a_batch_commits_together_and_a_failing_block_rolls_back_alone(
    service_db: tuple[Engine, str],
) -> None:
    engine, suffix = service_db
    stock, inbox = stock_and_inbox_with_e0_handled(engine, suffix)
    with inbox.each() as batch:
        for key in ("e-0", "e-1", "e-2", "e-3"):
            with batch.once(key) as tx:
                if tx is not None:
                    tx.execute(update(stock).values(reserved=stock.c.reserved + 1))
                    if key == "e-2":
                        raise Boom
    assert [type(o) for o in batch.outcomes] == [type(None), type(None), Boom, type(None)]
    assert reserved(engine, stock) == 2  # e-1 and e-3; e-0 was done, e-2 rolled back
    assert [inbox.handled(k) for k in ("e-1", "e-2", "e-3")] == [True, False, True]


def test_a_batch_claimed_at_once_skips_what_was_handled_and_counts_a_repeated_event_once(
    service_db: tuple[Engine, str],
) -> None:
    engine, suffix = service_db
    stock, inbox = stock_and_inbox_with_e0_handled(engine, suffix)
    items = [(n, key) for n, key in enumerate(["e-0", "e-1", "e-2", "e-1", *(f"x-{i}" for i in range(400))])]
    with inbox.each() as batch:
        fresh = batch.unhandled(items)
        batch.connection.execute(update(stock).values(reserved=stock.c.reserved + len(fresh)))
    assert [n for n, _ in fresh] == [1, 2, *range(4, 404)]  # past one claiming statement's rows too
    assert reserved(engine, stock) == 402
    with inbox.each() as batch:  # the whole batch delivered again: nothing is new
        assert batch.unhandled(items) == []


def test_a_failing_claimed_batch_rolls_back_whole(service_db: tuple[Engine, str]) -> None:
    engine, suffix = service_db
    stock, inbox = stock_table(engine, suffix), Inbox(engine, table=f"inbox_{suffix}")
    items = [(None, "e-1"), (None, "e-2")]
    with pytest.raises(Boom), inbox.each() as batch:
        assert len(batch.unhandled(items)) == 2
        batch.connection.execute(update(stock).values(reserved=stock.c.reserved + 2))
        raise Boom
    assert reserved(engine, stock) == 0
    assert not inbox.handled("e-1") and not inbox.handled("e-2")
    with inbox.each() as batch:  # the redelivery handles them
        assert len(batch.unhandled(items)) == 2


def test_a_batch_failing_in_a_group_commit_takes_the_shared_transaction_back_and_fails_the_others(
    service_db: tuple[Engine, str],
) -> None:
    engine, suffix = service_db
    stock = stock_table(engine, suffix)
    inbox = Inbox(engine, table=f"inbox_{suffix}", group_commit=True)
    outcome: list[BaseException | None] = []

    def other() -> None:  # queues behind the failing batch, so it shares its transaction
        try:
            with inbox.each() as batch:
                assert len(batch.unhandled([(None, "e-2")])) == 1
                batch.connection.execute(update(stock).values(reserved=stock.c.reserved + 1))
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    queued = threading.Thread(target=other)
    with pytest.raises(Boom), inbox.each() as batch:
        batch.unhandled([(None, "e-1")])
        batch.connection.execute(update(stock).values(reserved=stock.c.reserved + 1))
        queued.start()
        wait_until(lambda: inbox._group is not None and inbox._group._waiting == 1, 10, "the other batch")
        raise Boom
    queued.join(10)
    assert [type(o) for o in outcome] == [GroupRolledBack]
    assert reserved(engine, stock) == 0
    assert not inbox.handled("e-1") and not inbox.handled("e-2")


def test_the_relay_is_woken_once_rows_written_in_a_service_transaction_are_visible(
    service_db: tuple[Engine, str],
) -> None:
    engine, suffix = service_db
    outbox = Outbox(engine, table=f"outbox_{suffix}")
    seen: list[int] = []  # at each wake-up, how many rows a relay would find
    outbox.on_commit(lambda: seen.append(len(outbox.pending(10))))
    with engine.begin() as connection:  # the service's own transaction, not outbox.transaction()
        outbox.publish(connection, entry())
    # SQLAlchemy's commit event comes before the commit: a wake-up then finds nothing; one must follow it
    assert seen and seen[-1] == 1


def test_the_outboxes_of_an_engine_share_its_listeners_which_keep_none_alive(
    service_db: tuple[Engine, str],
) -> None:
    engine, suffix = service_db
    outboxes = [Outbox(engine, table=f"outbox_{suffix}") for _ in range(3)]
    assert len(_outboxes_of(engine)) == 3
    del outboxes
    gc.collect()
    assert len(_outboxes_of(engine)) == 0


@pytest.mark.postgres
def test_reads_leave_the_statements_psycopg_prepared_on_the_connection() -> None:
    """A read ended by ROLLBACK makes psycopg deallocate every statement it prepared on that connection; the
    relay's empty polls did that to the services' writes, which PostgreSQL then parsed and planned again."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    suffix = uuid.uuid4().hex[:8]
    engine = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=1)
    outbox = Outbox(engine, table=f"outbox_{suffix}")
    inbox = Inbox(engine, consumer="payment", table=f"inbox_{suffix}")
    try:
        for _ in range(8):  # psycopg prepares a statement on its 5th run on a connection
            outbox.pending(10)
            inbox.handled("e1")
        with engine.connect() as connection:
            found = connection.exec_driver_sql(
                "SELECT statement FROM pg_prepared_statements WHERE NOT from_sql"
            ).scalars()
            prepared = " ".join(found)
        assert f"outbox_{suffix}" in prepared and f"inbox_{suffix}" in prepared
    finally:
        with engine.begin() as conn:
            for name in ("outbox", "inbox"):
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}_{suffix}"'))
        engine.dispose()


def test_the_rows_of_one_write_are_read_back_in_the_order_they_were_published(
    service_db: tuple[Engine, str],
) -> None:
    engine, suffix = service_db
    outbox = Outbox(engine, table=f"outbox_{suffix}")
    with outbox.transaction() as tx:
        published = [tx.publish(placed("default", f"o-{i}")) for i in range(300)]
    assert [row.event_id for row in outbox.pending(1000)] == published
    outbox.published([row.seq for row in outbox.pending(1000)[:250]])
    assert [row.event_id for row in outbox.pending(1000)] == published[250:]
