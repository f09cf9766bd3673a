"""The orders view: each order's status as the design running it reports it.

::

    orders = Orders(open_service_db("orders", url, data_dir)).create()
    orders.place(tx, order, "choreographed")        # pending, placed_at = now
    orders.complete(tx, order.order_id)             # completed, decided_at = now
    orders.cancel(tx, order.order_id, "PaymentDeclined: card tok_declined declined")
    orders.counts()                                 # {"pending": 0, "completed": 1, "cancelled": 0}
    percentile(orders.latencies(), 99)              # seconds from placed to decided

Transitions go one way, pending -> completed or pending -> cancelled, each by a conditional UPDATE: a decided
order stays as it was decided (a late or duplicated report changes nothing), and placing it again keeps the
first placement. Completing or cancelling an order never placed raises UnknownOrder, so a report that
overtook the placement (events can arrive out of order) fails and is retried after it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    update,
)

from stepdance.order.db import begun, create_tables, reading
from stepdance.order.model import Order, UnknownOrder
from stepdance.order.statements import Statement, insert_once

DESIGNS = ("orchestrated", "choreographed", "hybrid", "workflows")
PENDING, COMPLETED, CANCELLED = "pending", "completed", "cancelled"
STATUSES = (PENDING, COMPLETED, CANCELLED)

metadata = MetaData()
order_table = Table(
    "orders",
    metadata,
    Column("order_id", String(128), primary_key=True),
    Column("design", String(32), nullable=False),
    Column("customer", String(256), nullable=False),
    Column("email", String(320), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("sku", String(128), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("reason", Text),  # why it was cancelled
    Column("placed_at", Float, nullable=False),
    Column("decided_at", Float),
)

# The statements of a placement and a decision, compiled once (see .statements): they run for every order.
# RETURNING, not rowcount, says whether an insert claimed its key: psycopg reports -1 for ON CONFLICT.
_place_once = insert_once(order_table, order_table.c.order_id, skip=("reason", "decided_at"))
_decide_once = Statement(  # pending -> decided, once
    lambda _: (
        update(order_table)
        .where(order_table.c.order_id == bindparam("id"), order_table.c.status == PENDING)
        .values(status=bindparam("decision"), reason=bindparam("why"), decided_at=bindparam("at"))
        .returning(*order_table.c)
    )
)
_order_of = Statement(lambda _: select(order_table).where(order_table.c.order_id == bindparam("id")))


class Orders:
    """The orders view in its own database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def create(self) -> Self:
        """Create the view's table if missing."""
        create_tables(self.engine, metadata)
        return self

    def place(self, conn: Connection | None, order: Order, design: str) -> dict[str, Any]:
        """Record ``order`` as pending under ``design`` (one of :data:`DESIGNS`); the order's record."""
        return self.place_once(conn, order, design)[0]

    def place_once(self, conn: Connection | None, order: Order, design: str) -> tuple[dict[str, Any], bool]:
        """:meth:`place`, and whether this call placed it (False: it was placed before, and its record is
        as it was)."""
        if design not in DESIGNS:
            raise ValueError(f"unknown design {design!r} (one of {', '.join(DESIGNS)})")
        row = dict(
            order_id=order.order_id,
            design=design,
            customer=order.customer,
            email=order.email,
            amount_cents=order.amount_cents,
            sku=order.sku,
            quantity=order.quantity,
            status=PENDING,
            placed_at=self.clock(),
        )
        with begun(self.engine, conn) as tx:
            if _place_once.first(tx, **row) is not None:
                return _order_json({**row, "reason": None, "decided_at": None}), True
            return _order_json(_order_of.first(tx, id=order.order_id)), False

    def complete(self, conn: Connection | None, order_id: str) -> dict[str, Any]:
        """Mark a pending order completed; the order's record (unchanged if it was decided already)."""
        return self._decide(conn, order_id, COMPLETED, None)

    def cancel(self, conn: Connection | None, order_id: str, reason: str) -> dict[str, Any]:
        """Mark a pending order cancelled for ``reason``; the order's record (unchanged if decided)."""
        return self._decide(conn, order_id, CANCELLED, reason)

    def _decide(
        self, conn: Connection | None, order_id: str, status: str, reason: str | None
    ) -> dict[str, Any]:
        with begun(self.engine, conn) as tx:
            found = _decide_once.first(tx, id=order_id, decision=status, why=reason, at=self.clock())
            if found is None:  # decided already, or never placed
                found = _order_of.first(tx, id=order_id)
        if found is None:
            raise UnknownOrder(order_id)
        return _order_json(found)

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The order's record, or None if it was never placed."""
        with reading(self.engine) as conn:
            found = _order_of.first(conn, id=order_id)
        return None if found is None else _order_json(found)

    def counts(self, design: str | None = None) -> dict[str, int]:
        """How many orders are in each status (every status present, 0 if none)."""
        t = order_table
        query = select(t.c.status, func.count()).group_by(t.c.status)
        if design is not None:
            query = query.where(t.c.design == design)
        with reading(self.engine) as conn:
            rows: list[Any] = list(conn.execute(query).all())
        found = {str(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def recent(
        self,
        limit: int = 50,
        *,
        design: str | None = None,
        status: str | None = None,
        before: float | None = None,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` orders, the last placed first; ``before``: placed before that time (the next page
        starts at the last one's ``placedAt``)."""
        t = order_table
        query = select(t).order_by(t.c.placed_at.desc(), t.c.order_id).limit(limit)
        if design is not None:
            query = query.where(t.c.design == design)
        if status is not None:
            query = query.where(t.c.status == status)
        if before is not None:
            query = query.where(t.c.placed_at < before)
        with reading(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [_order_json(row) for row in rows]

    def latencies(self, design: str | None = None) -> list[float]:
        """Seconds from placed to decided of every decided order, smallest first."""
        t = order_table
        query = select(t.c.decided_at - t.c.placed_at).where(t.c.decided_at.is_not(None))
        if design is not None:
            query = query.where(t.c.design == design)
        with reading(self.engine) as conn:
            values: list[Any] = list(conn.execute(query).scalars())
        return sorted(float(v) for v in values)


def percentile(ordered: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of values sorted smallest first; 0.0 for none."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _order_json(row: Any) -> dict[str, Any]:
    return {
        "orderId": row["order_id"],
        "design": row["design"],
        "customer": row["customer"],
        "email": row["email"],
        "amountCents": int(row["amount_cents"]),
        "sku": row["sku"],
        "quantity": int(row["quantity"]),
        "status": row["status"],
        "reason": row["reason"],
        "placedAt": row["placed_at"],
        "decidedAt": row["decided_at"],
    }
