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
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from stepdance.order.db import begun, create_tables, insert_once, reading
from stepdance.order.faults import Faults
from stepdance.order.model import Order, OutOfStock

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
            if not insert_once(tx, reservation_table, row):
                found = tx.execute(_record(order.order_id)).one()._mapping
            elif not _take(tx, order.sku, order.quantity):
                query = select(stock_table.c.available).where(stock_table.c.sku == order.sku)
                left = int(tx.execute(query).scalar() or 0)
                tx.execute(
                    update(reservation_table)
                    .where(reservation_table.c.order_id == order.order_id)
                    .values(status=REJECTED, available=left)
                )
                found = {**found, "status": REJECTED, "available": left}
        if found["status"] == REJECTED:
            raise OutOfStock(found["sku"], int(found["available"]), int(found["quantity"]))
        return _reservation_json(found)

    def release(self, conn: Connection | None, order_id: str) -> dict[str, Any] | None:
        """Give the order's units back, once; the released reservation (also on a repeated call), or None
        when the order holds nothing (never reserved, or rejected)."""
        r = reservation_table
        with begun(self.engine, conn) as tx:
            released = tx.execute(
                update(r)
                .where(r.c.order_id == order_id, r.c.status == RESERVED)
                .values(status=RELEASED, released_at=self.clock())
                .returning(r.c.sku, r.c.quantity)
            ).first()
            if released is not None:
                tx.execute(
                    update(stock_table)
                    .where(stock_table.c.sku == released.sku)
                    .values(available=stock_table.c.available + released.quantity)
                )
            found = tx.execute(_record(order_id)).first()
        if found is None or found.status != RELEASED:
            return None
        return _reservation_json(found._mapping)

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The order's reservation record (reserved, released or rejected), or None."""
        with reading(self.engine) as conn:
            found = conn.execute(_record(order_id)).first()
        return None if found is None else _reservation_json(found._mapping)

    def reservations(self) -> dict[str, dict[str, Any]]:
        """Every order's reservation record, by order id."""
        query = select(reservation_table).order_by(reservation_table.c.order_id)
        with reading(self.engine) as conn:
            return {row.order_id: _reservation_json(row._mapping) for row in conn.execute(query).all()}


def _take(conn: Connection, sku: str, quantity: int) -> bool:
    """Take ``quantity`` units if that many are left; whether it did."""
    s = stock_table
    taken = conn.execute(
        update(s)
        .where(s.c.sku == sku, s.c.available >= quantity)
        .values(available=s.c.available - quantity)
        .returning(s.c.available)
    ).first()
    return taken is not None


def _record(order_id: str) -> Any:
    return select(reservation_table).where(reservation_table.c.order_id == order_id)


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
