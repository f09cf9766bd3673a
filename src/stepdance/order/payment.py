"""The payment service: charge and refund, each at most once per order, and a ledger to audit them.

::

    payment = Payment(open_service_db("payment", url, data_dir)).create()
    with inbox.once(context) as tx:                    # or payment.charge(None, order): its own transaction
        try:
            charged = payment.charge(tx, order)        # {"orderId", "chargeId", "amountCents", "status", ...}
        except PaymentDeclined as declined:            # caught inside: the decline's record commits
            outbox.publish(tx, ...)

A charge is claimed by inserting the order's row (its key is the order id; ``ON CONFLICT DO NOTHING``): the
first call decides (charged, or declined by :func:`~stepdance.order.model.decline_reason`) and writes the
ledger entry; a concurrent call for the same order waits on the key until the first commits (PostgreSQL's
unique index, SQLite's write lock); every later call finds the row and answers the same, so a retried or
duplicated charge never charges twice and a declined order stays declined. The ledger has one ``charge``
(+amount) and at most one ``refund`` (-amount) entry per order, which a unique key enforces too. A refund
turns a ``charged`` row into ``refunded`` once.

A decline is recorded in the same transaction and then raised: with a transaction of the caller's, catch
:class:`PaymentDeclined` inside it to keep the record (a rollback forgets it; charging again declines again,
as the decision depends only on the order).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
    update,
)

from stepdance.order.db import begun, create_tables, reading
from stepdance.order.faults import Faults
from stepdance.order.model import DEFAULT_LIMIT_CENTS, Order, PaymentDeclined, decline_reason
from stepdance.order.statements import Statement, insert_once

CHARGED, DECLINED, REFUNDED = "charged", "declined", "refunded"

metadata = MetaData()
charge_table = Table(
    "payment_charges",
    metadata,
    Column("order_id", String(128), primary_key=True),
    Column("charge_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("card", String(128), nullable=False),
    Column("reason", Text),  # why it was declined
    Column("charged_at", Float, nullable=False),
    Column("refunded_at", Float),
)
ledger_table = Table(
    "payment_ledger",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # charge | refund
    Column("amount_cents", BigInteger, nullable=False),  # + for a charge, - for a refund
    Column("at", Float, nullable=False),
    UniqueConstraint("order_id", "kind", name="payment_ledger_once"),
)

# The statements of a charge and a refund, compiled once (see .statements): they run for every order.
# RETURNING, not rowcount, says whether an insert claimed its key: psycopg reports -1 for ON CONFLICT.
_charge_once = insert_once(charge_table, charge_table.c.order_id, skip=("refunded_at",))
_enter_once = insert_once(ledger_table, ledger_table.c.entry_id, skip=("entry_id",))
_refund = Statement(
    lambda _: (
        update(charge_table)
        .where(charge_table.c.order_id == bindparam("id"), charge_table.c.status == CHARGED)
        .values(status=REFUNDED, refunded_at=bindparam("at"))
        .returning(*charge_table.c)
    )
)
_charge_of = Statement(lambda _: select(charge_table).where(charge_table.c.order_id == bindparam("id")))


class Payment:
    """Charges and refunds in the payment service's own database."""

    def __init__(
        self,
        engine: Engine,
        *,
        limit_cents: int = DEFAULT_LIMIT_CENTS,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.limit_cents = limit_cents
        self.faults = faults or Faults()
        self.clock = clock

    def create(self) -> Self:
        """Create the service's tables if missing."""
        create_tables(self.engine, metadata)
        return self

    def charge(self, conn: Connection | None, order: Order) -> dict[str, Any]:
        """Charge ``order`` once; the charge (the first one on a repeated call). Raises PaymentDeclined,
        or TransientFailure when faults say so (before changing anything)."""
        self.faults.check("payment", order.order_id)
        with begun(self.engine, conn) as tx:
            reason = decline_reason(order.card, order.amount_cents, self.limit_cents)
            now = self.clock()
            row = dict(
                order_id=order.order_id,
                charge_id=charge_id(order.order_id),
                status=DECLINED if reason else CHARGED,
                amount_cents=order.amount_cents,
                card=order.card,
                reason=reason,
                charged_at=now,
            )
            found: Any = {**row, "refunded_at": None}  # the first call: what it wrote
            if _charge_once.first(tx, **row) is None:
                found = _charge_of.first(tx, id=order.order_id)
            elif reason is None:
                _enter(tx, order.order_id, "charge", order.amount_cents, now)
        if found["status"] == DECLINED:
            raise PaymentDeclined(found["reason"])
        return _charge_json(found)

    def refund(self, conn: Connection | None, order_id: str) -> dict[str, Any] | None:
        """Refund ``order_id``'s charge once; the refund (also on a repeated call), or None when the order
        was not charged (never, or declined): nothing to give back."""
        self.faults.check("payment", order_id, "refund")
        with begun(self.engine, conn) as tx:
            now = self.clock()
            found = _refund.first(tx, id=order_id, at=now)
            if found is not None:
                _enter(tx, order_id, "refund", -found["amount_cents"], now)
            else:  # refunded before, declined, or never charged
                found = _charge_of.first(tx, id=order_id)
        if found is None or found["status"] != REFUNDED:
            return None
        return _charge_json(found)

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The order's payment record (charged, declined or refunded), or None."""
        with reading(self.engine) as conn:
            found = _charge_of.first(conn, id=order_id)
        return None if found is None else _charge_json(found)

    def charges(self) -> dict[str, dict[str, Any]]:
        """Every order's payment record, by order id."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(charge_table).order_by(charge_table.c.order_id)).all()
        return {row.order_id: _charge_json(row._mapping) for row in rows}

    def ledger(self, order_id: str) -> list[dict[str, Any]]:
        """The order's ledger entries, oldest first."""
        query = (
            select(ledger_table).where(ledger_table.c.order_id == order_id).order_by(ledger_table.c.entry_id)
        )
        with reading(self.engine) as conn:
            rows = conn.execute(query).all()
        return [
            {
                "entry": r.entry_id,
                "orderId": r.order_id,
                "kind": r.kind,
                "amountCents": r.amount_cents,
                "at": r.at,
            }
            for r in rows
        ]

    def ledgers(self) -> dict[str, list[dict[str, Any]]]:
        """Every order's ledger entries (kind and amount), oldest first, by order id."""
        t = ledger_table
        query = select(t.c.order_id, t.c.kind, t.c.amount_cents).order_by(t.c.order_id, t.c.entry_id)
        found: dict[str, list[dict[str, Any]]] = {}
        with reading(self.engine) as conn:
            rows: list[Any] = list(conn.execute(query).all())
        for order_id, kind, cents in rows:
            found.setdefault(str(order_id), []).append({"kind": kind, "amountCents": int(cents)})
        return found

    def balance(self, order_id: str) -> int:
        """What the order's customer has paid and not been given back, in cents."""
        query = select(func.coalesce(func.sum(ledger_table.c.amount_cents), 0)).where(
            ledger_table.c.order_id == order_id
        )
        with reading(self.engine) as conn:
            return int(conn.execute(query).scalar_one())

    def balances(self) -> dict[str, int]:
        """The balance of every order with a ledger entry (refunded ones are 0)."""
        query = select(ledger_table.c.order_id, func.sum(ledger_table.c.amount_cents)).group_by(
            ledger_table.c.order_id
        )
        with reading(self.engine) as conn:
            rows: list[Any] = list(conn.execute(query).all())
        return {str(order_id): int(total) for order_id, total in rows}


def charge_id(order_id: str) -> str:
    """The charge's id: the same for every attempt at one order."""
    return "ch_" + hashlib.blake2b(order_id.encode(), digest_size=8).hexdigest()


def _enter(conn: Connection, order_id: str, kind: str, amount_cents: int, at: float) -> None:
    if _enter_once.first(conn, order_id=order_id, kind=kind, amount_cents=amount_cents, at=at) is None:
        # the payment row is the claim, so this cannot happen short of a hand-edited database
        raise RuntimeError(f"payment ledger already has a {kind} entry for order {order_id}")


def _charge_json(row: Any) -> dict[str, Any]:
    return {
        "orderId": row["order_id"],
        "chargeId": row["charge_id"],
        "status": row["status"],
        "amountCents": row["amount_cents"],
        "reason": row["reason"],
        "chargedAt": row["charged_at"],
        "refundedAt": row["refunded_at"],
    }
