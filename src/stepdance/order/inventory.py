"""The inventory service: stock per SKU, reserved and released at most once per order, never below zero.

::

    inventory = Inventory(open_service_db("inventory", url, data_dir)).create()
    inventory.set_stock({"sku-plenty": 1000, "sku-limited": 10})
    held = inventory.reserve(tx, order)        # {"orderId", "sku", "quantity", "status": "reserved", ...}
    inventory.release(tx, order.order_id)      # gives the units back, once; None if none were held

A reservation is claimed by inserting the order's row, as a charge is (see :mod:`.payment`); the first call
then takes the units with one conditional ``UPDATE ... SET available = available - q WHERE available >= q``
and looks at whether it changed a row. Two orders for the last unit: PostgreSQL makes the second UPDATE wait
for the first's commit and then evaluates its condition again on the new value, SQLite runs one writer at a
time, so one of them gets it and the other is out of stock; a ``CHECK (available >= 0)`` backs this up.

A release that comes before the reservation (the saga gave up on a reservation still running) leaves a
tombstone, a released row of no units: the late reservation then takes nothing and answers "released".

An order that finds too little stock is recorded as rejected (with what was left) and OutOfStock raised; a
repeated call raises it again rather than reserving units released since, so an order gets one answer. As
with a decline, catch :class:`OutOfStock` inside a transaction of yours to keep that record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from stepdance.order.db import begun, create_tables, reading
from stepdance.order.faults import Faults
from stepdance.order.model import Order, OutOfStock
from stepdance.order.statements import Statement, insert_once

RESERVED, RELEASED, REJECTED = "reserved", "released", "rejected"

metadata = MetaData()
stock_table = Table(
    "inventory_stock",
    metadata,
    Column("sku", String(128), primary_key=True),
    Column("available", BigInteger, nullable=False),
    CheckConstraint("available >= 0", name="inventory_stock_not_negative"),
)
reservation_table = Table(
    "inventory_reservations",
    metadata,
    Column("order_id", String(128), primary_key=True),
    Column("sku", String(128), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("available", BigInteger),  # what was left when the order was rejected
    Column("reserved_at", Float, nullable=False),
    Column("released_at", Float),
)

# The statements of a reservation and a release, compiled once (see .statements): they run for every order.
# RETURNING, not rowcount, says whether a statement changed a row: psycopg reports -1 for ON CONFLICT.
_stock, _held = stock_table.c, reservation_table.c
_reserve_once = insert_once(reservation_table, _held.order_id, skip=("available", "released_at"))
_take = Statement(  # the units if that many are left (see the module's docstring)
    lambda _: (
        update(stock_table)
        .where(_stock.sku == bindparam("the_sku"), _stock.available >= bindparam("wanted"))
        .values(available=_stock.available - bindparam("wanted"))
        .returning(_stock.available)
    )
)
_left = select(_stock.available).where(_stock.sku == bindparam("the_sku")).scalar_subquery()
_reject = Statement(  # records what was left, read by the same statement
    lambda _: (
        update(reservation_table)
        .where(_held.order_id == bindparam("id"))
        .values(status=REJECTED, available=func.coalesce(_left, 0))
        .returning(_held.available)
    )
)
_release = Statement(
    lambda _: (
        update(reservation_table)
        .where(_held.order_id == bindparam("id"), _held.status == RESERVED)
        .values(status=RELEASED, released_at=bindparam("at"))
        .returning(*_held)
    )
)
_give_back = Statement(
    lambda _: (
        update(stock_table)
        .where(_stock.sku == bindparam("the_sku"))
        .values(available=_stock.available + bindparam("units"))
    )
)
_tombstone = insert_once(reservation_table, _held.order_id, skip=("available",))
_reservation_of = Statement(lambda _: select(reservation_table).where(_held.order_id == bindparam("id")))


class Inventory:
    """Stock and reservations in the inventory service's own database."""

    def __init__(
        self, engine: Engine, faults: Faults | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.faults = faults or Faults()
        self.clock = clock

    def create(self) -> Self:
        """Create the service's tables if missing."""
        create_tables(self.engine, metadata)
        return self

    def set_stock(self, levels: Mapping[str, int]) -> None:
        """Set the units available of each SKU named (others are left as they are)."""
        for sku, units in levels.items():
            if units < 0:
                raise ValueError(f"stock of {sku!r} cannot be negative: {units}")
        if not levels:
            return
        with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(stock_table)
            statement = statement.on_conflict_do_update(
                index_elements=[stock_table.c.sku], set_={"available": statement.excluded.available}
            )
            conn.execute(statement, [{"sku": sku, "available": units} for sku, units in levels.items()])

    def stock(self, sku: str) -> int:
        """Units of ``sku`` available (0 for an unknown SKU)."""
        query = select(stock_table.c.available).where(stock_table.c.sku == sku)
        with reading(self.engine) as conn:
            return int(conn.execute(query).scalar() or 0)

    def stock_levels(self) -> dict[str, int]:
        """Units available of every SKU."""
        with reading(self.engine) as conn:
            return {r.sku: int(r.available) for r in conn.execute(select(stock_table)).all()}

    def reserve(self, conn: Connection | None, order: Order) -> dict[str, Any]:
        """Hold ``order.quantity`` units of ``order.sku`` for the order, once; the reservation (the first
        one on a repeated call). Raises OutOfStock, or TransientFailure when faults say so."""
        self.faults.check("inventory", order.order_id)
        with begun(self.engine, conn) as tx:
            row = dict(
                order_id=order.order_id,
                sku=order.sku,
                quantity=order.quantity,
                status=RESERVED,
                reserved_at=self.clock(),
            )
            found: Any = {**row, "available": None, "released_at": None}  # the first call: what it wrote
            if _reserve_once.first(tx, **row) is None:
                found = _reservation_of.first(tx, id=order.order_id)
            elif _take.first(tx, the_sku=order.sku, wanted=order.quantity) is None:
                rejected = _reject.first(tx, id=order.order_id, the_sku=order.sku)
                assert rejected is not None  # the row this call inserted
                found = {**found, "status": REJECTED, "available": int(rejected["available"])}
        if found["status"] == REJECTED:
            raise OutOfStock(found["sku"], int(found["available"]), int(found["quantity"]))
        return _reservation_json(found)

    def release(self, conn: Connection | None, order_id: str) -> dict[str, Any] | None:
        """Give the order's units back, once; the released reservation (also on a repeated call), or None
        when the order holds nothing (never reserved, or rejected)."""
        self.faults.check("inventory", order_id, "release")
        with begun(self.engine, conn) as tx:
            now = self.clock()
            released = _release.first(tx, id=order_id, at=now)
            if released is None:
                existing = _reservation_of.first(tx, id=order_id)
                if existing is None:
                    # Not reserved (yet): a tombstone, so that a reservation still on its way (a call that
                    # timed out for its caller but runs on) finds the order released and takes nothing. If
                    # such a reservation commits first, the tombstone loses and the reservation is released.
                    tomb = dict(
                        order_id=order_id,
                        sku="",
                        quantity=0,
                        status=RELEASED,
                        reserved_at=now,
                        released_at=now,
                    )
                    if _tombstone.first(tx, **tomb) is None:
                        released = _release.first(tx, id=order_id, at=now)
                elif existing["status"] == RESERVED:  # a reservation committed between the two statements
                    released = _release.first(tx, id=order_id, at=now)
            if released is not None:
                _give_back.rows(tx, the_sku=released["sku"], units=released["quantity"])
            found = released or _reservation_of.first(tx, id=order_id)
        if found is None or found["status"] != RELEASED or not found["quantity"]:
            return None  # nothing was held: never reserved, rejected, or the tombstone
        return _reservation_json(found)

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The order's reservation record (reserved, released or rejected), or None."""
        with reading(self.engine) as conn:
            found = _reservation_of.first(conn, id=order_id)
        return None if found is None else _reservation_json(found)

    def reservations(self) -> dict[str, dict[str, Any]]:
        """Every order's reservation record, by order id."""
        query = select(reservation_table).order_by(reservation_table.c.order_id)
        with reading(self.engine) as conn:
            return {row.order_id: _reservation_json(row._mapping) for row in conn.execute(query).all()}


def _reservation_json(row: Any) -> dict[str, Any]:
    return {
        "orderId": row["order_id"],
        "sku": row["sku"],
        "quantity": int(row["quantity"]),
        "status": row["status"],
        "available": None if row["available"] is None else int(row["available"]),
        "reservedAt": row["reserved_at"],
        "releasedAt": row["released_at"],
    }
