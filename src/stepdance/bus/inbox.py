"""An inbox: a consumer records each event it handled in the same transaction as the handling's effect, so
an event delivered twice (the bus delivers at least once) has one effect.

::

    inbox = Inbox(engine, consumer="inventory")      # the consumer service's own database

    def on_payment_charged(event, context):
        with inbox.once(context) as tx:
            if tx is None:
                return                                  # handled before: nothing to do
            tx.execute(update(stock)...)
            outbox.publish(tx, {...}, caused_by=context)   # events it causes, in the same transaction

A failure inside the block rolls back the effect and the record, so the redelivery handles it again. Two
deliveries of one event handled at once: the second waits for the first's commit, then finds it done.
A replayed event (``replay-name``) is a new event for the inbox: replaying exists to handle events again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stepdance.bus.targets import DeliveryContext


def message_key(event: Mapping[str, Any] | DeliveryContext | str) -> str:
    """What identifies a delivery to the inbox: the event id, and the replay's name for a replayed event."""
    if isinstance(event, str):
        return event
    envelope = event.event if isinstance(event, DeliveryContext) else event
    replay = envelope.get("replay-name")
    return f"{envelope['id']}#replay:{replay}" if replay is not None else str(envelope["id"])


class Inbox:
    def __init__(
        self,
        engine: Engine,
        *,
        consumer: str = "",
        table: str = "inbox",
        schema: str | None = None,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        self.engine = engine
        self.consumer = consumer
        self.clock = clock
        self.table = Table(
            table,
            MetaData(schema=schema),
            Column("consumer", String(256), primary_key=True),
            Column("message_key", String(512), primary_key=True),
            Column("processed_at", Float, nullable=False),
        )
        if create:
            self.table.metadata.create_all(engine, checkfirst=True)

    @contextmanager
    def once(
        self, event: Mapping[str, Any] | DeliveryContext | str, *, consumer: str | None = None
    ) -> Iterator[Connection | None]:
        """A transaction in which to handle ``event``, or None when it was handled already."""
        values = dict(
            consumer=self.consumer if consumer is None else consumer, message_key=message_key(event)
        )
        with self.engine.begin() as connection:
            insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(
                self.table
            )
            statement = insert.values(**values, processed_at=self.clock()).on_conflict_do_nothing()
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT .. ON CONFLICT
            recorded = connection.execute(statement.returning(self.table.c.consumer)).first()
            yield connection if recorded is not None else None

    def handled(
        self, event: Mapping[str, Any] | DeliveryContext | str, *, consumer: str | None = None
    ) -> bool:
        t = self.table
        who = self.consumer if consumer is None else consumer
        query = select(exists().where(t.c.consumer == who, t.c.message_key == message_key(event)))
        with self.engine.connect() as connection:
            return bool(connection.execute(query).scalar())
