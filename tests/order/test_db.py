from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from stepdance.bus.inbox import Inbox
from stepdance.bus.outbox import Outbox
from stepdance.order import Inventory, OutOfStock, ServiceDbError, open_service_db
from tests.order.conftest import Backend, drop_schemas
from tests.order.helpers import on_threads, order
from tests.store.backends import POSTGRES, postgres_reachable


def test_sqlite_is_a_file_per_service_in_wal_fsynced_at_commit(tmp_path: Path) -> None:
    engine = open_service_db("payment", None, tmp_path / "data")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()
    assert (tmp_path / "data" / "payment.db").exists()


def test_a_sqlite_url_names_the_directory(tmp_path: Path) -> None:
    engine = open_service_db("inventory", f"sqlite:///{tmp_path}/elsewhere", tmp_path / "data")
    engine.dispose()
    assert (tmp_path / "elsewhere" / "inventory.db").exists()
    assert not (tmp_path / "data").exists()


def test_services_on_one_backend_do_not_see_each_others_tables(backend: Backend) -> None:
    payment, inventory = backend.db("payment"), backend.db("inventory")
    with payment.begin() as conn:
        conn.execute(text("CREATE TABLE only_here (x INTEGER)"))
    with inventory.begin() as conn:
        conn.execute(text("CREATE TABLE only_here (x INTEGER)"))  # its own: no clash
        conn.execute(text("INSERT INTO only_here VALUES (1)"))
    with payment.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM only_here")).scalar() == 0


@pytest.mark.postgres
def test_postgres_schemas_are_named_after_the_deployment_and_service() -> None:
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    deployment = f"sd_order_{uuid.uuid4().hex[:10]}"
    try:
        named = open_service_db("orders", f"{POSTGRES}?schema={deployment}&prefix=t1_", Path("unused"))
        given = open_service_db("orders", POSTGRES, Path("unused"), schema=f"{deployment}_mine")
        for engine, schema in ((named, f"{deployment}_orders"), (given, f"{deployment}_mine")):
            with engine.connect() as conn:
                assert conn.execute(text("SELECT current_schema()")).scalar() == schema
            engine.dispose()
    finally:
        drop_schemas(f"{deployment}_")


def test_an_unreachable_server_is_named_by_its_address(tmp_path: Path) -> None:
    with pytest.raises(ServiceDbError, match=r"cannot reach the payment database at 127\.0\.0\.1:1 "):
        open_service_db("payment", "postgresql://someone:secret@127.0.0.1:1/test", tmp_path)
    with pytest.raises(ServiceDbError) as raised:
        open_service_db("payment", "postgresql://someone:secret@127.0.0.1:1/test", tmp_path)
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("service", "url", "message"),
    [
        ("payment", "mysql://127.0.0.1/shop", "unsupported database URL 'mysql://127.0.0.1/shop'"),
        ("Payment", None, "bad service name 'Payment'"),
        ("payment", "postgresql://127.0.0.1:1/x?schema=Bad-Name", "bad schema name 'Bad-Name_payment'"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, service: str, url: str | None, message: str) -> None:
    with pytest.raises(ServiceDbError, match=message):
        open_service_db(service, url, tmp_path)


def test_an_unusable_data_directory_is_named(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory")
    with pytest.raises(ServiceDbError, match=f"directory {tmp_path / 'taken'}"):
        open_service_db("payment", None, tmp_path / "taken")


def test_the_bus_inbox_and_outbox_share_a_service_transaction(backend: Backend) -> None:
    engine = backend.db("inventory")
    inventory = Inventory(engine).create()
    inventory.set_stock({"sku-a": 5})
    inbox, outbox = Inbox(engine, consumer="inventory"), Outbox(engine)
    entry = {"Source": "inventory", "DetailType": "StockReserved", "Detail": json.dumps({"orderId": "o-1"})}

    def handle(event_id: str) -> None:
        with inbox.once(event_id) as tx:
            if tx is not None:
                inventory.reserve(tx, order("o-1", quantity=2))
                outbox.publish(tx, entry)

    handle("event-1")
    handle("event-1")  # redelivered: handled already
    on_threads(4, lambda _: handle("event-1"))
    assert inventory.stock("sku-a") == 3
    assert len(outbox.pending(10)) == 1

    with pytest.raises(OutOfStock), inbox.once("event-2") as tx:
        assert tx is not None
        inventory.reserve(tx, order("o-2", quantity=9))
    assert not inbox.handled("event-2")  # rolled back with the rejection: the bus retries it
    assert inventory.get("o-2") is None
