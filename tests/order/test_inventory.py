from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import exc, update

from stepdance.order import Faults, Inventory, OutOfStock, TransientFailure, open_service_db
from stepdance.order.inventory import stock_table
from tests.order.conftest import Backend
from tests.order.helpers import on_threads, order


@pytest.fixture
def inventory(backend: Backend) -> Inventory:
    stocked = Inventory(backend.db("inventory")).create()
    stocked.set_stock({"sku-a": 10, "sku-b": 1})
    return stocked


def test_a_reservation_takes_the_units(inventory: Inventory) -> None:
    held = inventory.reserve(None, order("o-1", quantity=3))
    assert (held["orderId"], held["sku"], held["quantity"], held["status"]) == ("o-1", "sku-a", 3, "reserved")
    assert inventory.stock("sku-a") == 7
    assert inventory.get("o-1") == held


def test_reserving_twice_reserves_once(inventory: Inventory) -> None:
    first = inventory.reserve(None, order("o-1", quantity=3))
    assert inventory.reserve(None, order("o-1", quantity=3)) == first
    assert inventory.stock("sku-a") == 7


def test_out_of_stock_is_recorded_and_the_answer_stays(inventory: Inventory) -> None:
    inventory.reserve(None, order("o-1", sku="sku-b"))
    for _ in range(2):
        with pytest.raises(OutOfStock, match="sku-b: 0 left, 1 wanted") as raised:
            inventory.reserve(None, order("o-2", sku="sku-b"))
        assert (raised.value.code, raised.value.available, raised.value.wanted) == ("OutOfStock", 0, 1)
    inventory.release(None, "o-1")
    with pytest.raises(OutOfStock):  # units came back, but o-2 had its answer
        inventory.reserve(None, order("o-2", sku="sku-b"))
    assert inventory.stock("sku-b") == 1
    assert inventory.reservations()["o-2"]["status"] == "rejected"


def test_an_unknown_sku_is_out_of_stock(inventory: Inventory) -> None:
    with pytest.raises(OutOfStock, match="sku-z: 0 left"):
        inventory.reserve(None, order("o-1", sku="sku-z"))


def test_a_release_gives_the_units_back_once(inventory: Inventory) -> None:
    inventory.reserve(None, order("o-1", quantity=4))
    released = inventory.release(None, "o-1")
    assert released is not None
    assert released["status"] == "released"
    assert inventory.release(None, "o-1") == released
    on_threads(4, lambda _: inventory.release(None, "o-1"))
    assert inventory.stock("sku-a") == 10


def test_nothing_to_release_without_a_reservation(inventory: Inventory) -> None:
    assert inventory.release(None, "never-reserved") is None
    with pytest.raises(OutOfStock):
        inventory.reserve(None, order("o-big", quantity=11))
    assert inventory.release(None, "o-big") is None
    assert inventory.stock("sku-a") == 10


def test_a_reservation_arriving_after_its_release_takes_nothing(inventory: Inventory) -> None:
    """The saga gave up on a reservation still running (a timeout) and released first: the late
    reservation must not hold stock for an order that is being cancelled."""
    assert inventory.release(None, "o-late") is None
    late = inventory.reserve(None, order("o-late", quantity=4))
    assert (late["status"], late["quantity"]) == ("released", 0)
    assert inventory.stock("sku-a") == 10
    assert inventory.release(None, "o-late") is None


def test_a_release_racing_its_reservation_leaves_the_stock_whole(inventory: Inventory) -> None:
    """Every way the two can interleave: the release first (a tombstone), the reservation first, or the
    reservation committing between the release's statements (PostgreSQL found that one in CI)."""
    for round_ in range(6):

        def either(i: int, round_: int = round_) -> None:
            if i % 2:
                inventory.release(None, f"o-{round_}-{i // 2}")
            else:
                inventory.reserve(None, order(f"o-{round_}-{i // 2}", quantity=1))

        on_threads(16, either)
    assert inventory.stock("sku-a") == 10
    assert all(r["status"] == "released" for r in inventory.reservations().values())


def test_set_stock_replaces_the_levels_named(inventory: Inventory) -> None:
    inventory.set_stock({"sku-a": 3, "sku-c": 5})
    assert inventory.stock_levels() == {"sku-a": 3, "sku-b": 1, "sku-c": 5}
    with pytest.raises(ValueError, match="'sku-a' cannot be negative"):
        inventory.set_stock({"sku-a": -1})


def test_concurrent_orders_for_the_last_units_never_take_stock_below_zero(inventory: Inventory) -> None:
    inventory.set_stock({"sku-last": 100})
    threads, per_thread = 8, 50
    refused: list[str] = []

    def buy(t: int) -> None:
        for i in range(per_thread):
            try:
                inventory.reserve(None, order(f"o-{t}-{i}", sku="sku-last"))
            except OutOfStock:
                refused.append(f"o-{t}-{i}")

    on_threads(threads, buy)
    held = [r for r in inventory.reservations().values() if r["status"] == "reserved"]
    assert inventory.stock("sku-last") == 0
    assert len(held) == 100
    assert len(refused) == threads * per_thread - 100


def _buy_in_a_process(url: str | None, data_dir: Path, name: str, count: int) -> int:
    """Reserve ``count`` units one order at a time, from a process of its own; how many it got."""
    engine = open_service_db("inventory", url, data_dir)
    inventory, got = Inventory(engine), 0
    for i in range(count):
        try:
            inventory.reserve(None, order(f"{name}-{i}", sku="sku-last"))
            got += 1
        except OutOfStock:
            pass
    engine.dispose()
    return got


def test_processes_competing_for_the_last_units_get_exactly_the_stock(
    backend: Backend, inventory: Inventory
) -> None:
    inventory.set_stock({"sku-last": 50})
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        jobs = [(backend.url, backend.data_dir, f"p{p}", 30) for p in range(3)]
        got = pool.starmap(_buy_in_a_process, jobs)
    assert sum(got) == 50
    assert inventory.stock("sku-last") == 0


def test_the_database_refuses_negative_stock(inventory: Inventory) -> None:
    with pytest.raises(exc.IntegrityError), inventory.engine.begin() as tx:
        tx.execute(update(stock_table).where(stock_table.c.sku == "sku-b").values(available=-1))


def test_an_injected_transient_failure_changes_nothing(backend: Backend) -> None:
    inventory = Inventory(backend.db("inventory"), Faults(transient={"inventory": 1.0})).create()
    inventory.set_stock({"sku-a": 1})
    with pytest.raises(TransientFailure):
        inventory.reserve(None, order("o-1"))
    assert (inventory.get("o-1"), inventory.stock("sku-a")) == (None, 1)
    assert inventory.reserve(None, order("o-1"))["status"] == "reserved"
