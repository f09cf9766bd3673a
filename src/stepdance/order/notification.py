"""The notification service: tells the customer once per order and kind (confirmed, cancelled,
payment_failed), through a :mod:`channel <.channels>`.

::

    notification = Notification(open_service_db("notification", url, data_dir), open_channel(None, data_dir))
    notification.create()
    notification.send(tx, order.order_id, "confirmed", order.email)

Send once, and a crash: record, then send, then commit. ``send`` inserts the (order, kind) row, and only the
call that inserted it delivers the message, before the transaction commits:

- the channel fails: the error propagates, the transaction rolls back with the row, and the retry sends;
- a duplicate call, even a concurrent one: it waits on the row's key until the first commits, finds the row
  and sends nothing;
- a crash after the channel took the message and before the commit: the retry sends it again, with the
  same Message-ID. That window is unavoidable when a database and a mail server cannot share a transaction;
  so delivery to the channel is at least once, and the service's records say exactly once.

Sending after the commit (an outbox of messages) would close no window (a crash between the send and
marking it sent resends too) and would hide the channel's failures from the caller, whose retries (ASL
Retry, the bus's redelivery) are what the designs compare. The cost: the row's key is held while the
channel works, which on SQLite means the write lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Self

from sqlalchemy import Column, Connection, Engine, Float, MetaData, String, Table, bindparam, select

from stepdance.order.channels import Channel, compose
from stepdance.order.db import begun, create_tables, reading
from stepdance.order.faults import Faults
from stepdance.order.statements import Statement, insert_once

metadata = MetaData()
sent_table = Table(
    "notifications",
    metadata,
    Column("order_id", String(128), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("recipient", String(320), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("sent_at", Float, nullable=False),
)

# The statements of a sending, compiled once (see .statements): they run for every order.
# RETURNING, not rowcount, says whether an insert claimed its key: psycopg reports -1 for ON CONFLICT.
_send_once = insert_once(sent_table, sent_table.c.order_id)
_sent_of = Statement(
    lambda _: select(sent_table).where(
        sent_table.c.order_id == bindparam("id"), sent_table.c.kind == bindparam("the_kind")
    )
)


class Notification:
    """Messages sent, in the notification service's own database, and the channel that sends them."""

    def __init__(
        self,
        engine: Engine,
        channel: Channel,
        faults: Faults | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.faults = faults or Faults()
        self.clock = clock

    def create(self) -> Self:
        """Create the service's tables if missing."""
        create_tables(self.engine, metadata)
        return self

    def send(self, conn: Connection | None, order_id: str, kind: str, to: str) -> dict[str, Any]:
        """Tell ``to`` that the order is ``kind``, once; the record of the (first) sending. Raises
        TransientFailure (faults, a channel away) or Undeliverable, and ValueError for an unknown kind."""
        message = compose(order_id, kind, to)
        self.faults.check("notification", order_id)
        with begun(self.engine, conn) as tx:
            row = dict(
                order_id=order_id,
                kind=kind,
                recipient=to,
                message_id=message.message_id,
                channel=self.channel.name,
                sent_at=self.clock(),
            )
            if _send_once.first(tx, **row) is None:
                return _sent_json(_sent_of.first(tx, id=order_id, the_kind=kind))
            self.channel.deliver(message)
        return _sent_json(row)

    def get(self, order_id: str, kind: str) -> dict[str, Any] | None:
        """The record of the order's ``kind`` message, or None if it was not sent."""
        with reading(self.engine) as conn:
            found = _sent_of.first(conn, id=order_id, the_kind=kind)
        return None if found is None else _sent_json(found)

    def sent(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Every message sent (or the order's), by order and kind."""
        t = sent_table
        query = select(t).order_by(t.c.order_id, t.c.kind)
        if order_id is not None:
            query = query.where(t.c.order_id == order_id)
        with reading(self.engine) as conn:
            return [_sent_json(row._mapping) for row in conn.execute(query).all()]


def _sent_json(row: Any) -> dict[str, Any]:
    return {
        "orderId": row["order_id"],
        "kind": row["kind"],
        "to": row["recipient"],
        "messageId": row["message_id"],
        "channel": row["channel"],
        "sentAt": row["sent_at"],
    }
