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

Group commit (the default on SQLite, whose single writer would otherwise make concurrent deliveries queue
on its lock and sleep in its busy handler): deliveries handled at once in this process share one
transaction, each block in a savepoint of its own (a failing block rolls back only its effect and record),
and each ``once`` returns only after that shared transaction committed, so a delivery is acked only once
its effect is durable. The blocks run one at a time; the last one waiting commits for all.

A batch handler (``bus.register_batch``) handles a whole fetched batch in ONE transaction::

    def on_payments(items):                         # [(input, context), ...]
        with inbox.each() as batch:
            for event, context in items:
                with batch.once(context) as tx:     # a savepoint; None when handled before
                    if tx is not None:
                        tx.execute(update(stock)...)
        return batch.outcomes                       # per item: None, or the error its block raised

A block that raises rolls back its own savepoint (its effect and its inbox row) and the error is kept in
``batch.outcomes`` instead of propagating, so the others still commit; the bus retries only that event.
``each`` returns once the transaction committed; a failing commit raises, and then every event is retried.

When the batch's effect is all or nothing, ``batch.unhandled(items)`` records every event of the batch in one
statement and returns the items not handled before; the effect then goes in ``batch.connection`` (one
``executemany`` for all, say). An error raised in the block rolls the whole batch back and fails every item::

    def on_payments(items):
        with inbox.each() as batch:
            fresh = batch.unhandled(items)           # [(event, context), ...] seen for the first time
            batch.connection.execute(insert(payments), [row(event) for event, _ in fresh])
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, exists, select
from sqlalchemy.engine import Connection, Dialect, RootTransaction

from stepdance.bus.driver_sql import placeholder, reading, table_name
from stepdance.bus.targets import DeliveryContext

T = TypeVar("T", bound=tuple[Any, Mapping[str, Any] | DeliveryContext | str])
CLAIM_ROWS = 300  # rows per claiming statement: 900 parameters, under SQLite's oldest limit (999)


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
        group_commit: bool | None = None,
    ) -> None:
        self.engine = engine
        self.consumer = consumer
        self.clock = clock
        self._group = (
            _GroupCommit(engine)
            if (engine.dialect.name == "sqlite" if group_commit is None else group_commit)
            else None
        )
        self.table = Table(
            table,
            MetaData(schema=schema),
            Column("consumer", String(256), primary_key=True),
            Column("message_key", String(512), primary_key=True),
            Column("processed_at", Float, nullable=False),
        )
        self._claims: dict[tuple[str, int, bool], str] = {}
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
        if self._group is not None:
            with self._group.member() as connection, connection.begin_nested():
                yield connection if self._record(connection, values) else None
            return
        with self.engine.begin() as connection:
            yield connection if self._record(connection, values) else None

    @contextmanager
    def each(self, *, consumer: str | None = None) -> Iterator[InboxBatch]:
        """One transaction for many events: see :class:`InboxBatch`. Returns after it committed."""
        who = self.consumer if consumer is None else consumer
        transaction: AbstractContextManager[Connection] = (
            self._group.member() if self._group is not None else _begun(self.engine)
        )
        with transaction as connection:
            try:
                yield InboxBatch(self, connection, who)
            except BaseException:
                if self._group is not None:
                    # the shared transaction holds this batch's work: it must not commit (a savepoint
                    # around the batch would spare the others, but makes SQLite journal every statement)
                    self._group.doom()
                raise

    def _record(self, connection: Connection, values: dict[str, str]) -> bool:
        """Insert the inbox row; False when it is there already (handled before)."""
        sql, arguments = self._insert(connection.dialect, values)
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT .. ON CONFLICT
        return connection.exec_driver_sql(sql, arguments).first() is not None

    def _insert(self, dialect: Dialect, values: dict[str, str]) -> tuple[str, Any]:
        """The driver's SQL and arguments inserting ``values``' row: the claim of one key."""
        return self._claim_sql(dialect, 1), (values["consumer"], values["message_key"], self.clock())

    def _claim_sql(self, dialect: Dialect, rows: int, *, returning: bool = True) -> str:
        """Insert ``rows`` inbox rows in one statement, skipping those there already (answering the keys
        that were new, when ``returning``)."""
        found = self._claims.get((dialect.name, rows, returning))
        if found is None:
            mark = placeholder(dialect)
            values = ", ".join([f"({mark}, {mark}, {mark})"] * rows)
            found = self._claims[(dialect.name, rows, returning)] = (
                f"INSERT INTO {table_name(dialect, self.table)} (consumer, message_key, processed_at) "
                f"VALUES {values} ON CONFLICT DO NOTHING" + (" RETURNING message_key" if returning else "")
            )
        return found

    def _claim_array_sql(self, dialect: Dialect) -> str:
        """PostgreSQL's claim of any number of keys, given as one array: one statement text whatever the
        batch's size, so psycopg prepares it and the server plans it once (a VALUES list per size was parsed
        by both at every batch)."""
        return (
            f"INSERT INTO {table_name(dialect, self.table)} (consumer, message_key, processed_at) "
            "SELECT %s, k, %s FROM unnest(%s::varchar[]) AS k ON CONFLICT DO NOTHING RETURNING message_key"
        )

    def handled(
        self, event: Mapping[str, Any] | DeliveryContext | str, *, consumer: str | None = None
    ) -> bool:
        t = self.table
        who = self.consumer if consumer is None else consumer
        query = select(exists().where(t.c.consumer == who, t.c.message_key == message_key(event)))
        with reading(self.engine) as connection:
            return bool(connection.execute(query).scalar())


class InboxBatch:
    """The events of one batch, each handled in a savepoint of one shared transaction."""

    def __init__(self, inbox: Inbox, connection: Connection, consumer: str) -> None:
        self.inbox = inbox
        self.connection = connection
        self.consumer = consumer
        self.outcomes: list[Exception | None] = []  # one per ``once``, in call order
        self._cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    @contextmanager
    def once(self, event: Mapping[str, Any] | DeliveryContext | str) -> Iterator[Connection | None]:
        """The shared transaction for ``event`` (None when handled before); an error inside is kept in
        ``outcomes`` and rolls back only this block."""
        index = len(self.outcomes)
        self.outcomes.append(None)
        values = dict(consumer=self.consumer, message_key=message_key(event))
        # The savepoint and the inbox row go straight to the driver, in the transaction SQLAlchemy began:
        # they run for every event of a batch, and SQLAlchemy's execution costs ten times the statement.
        cursor = self._cursor
        cursor.execute("SAVEPOINT inbox_each")
        sql, arguments = self.inbox._insert(self.connection.dialect, values)
        cursor.execute(sql, arguments)
        fresh = cursor.fetchone() is not None
        try:
            yield self.connection if fresh else None
        except Exception as error:
            self.outcomes[index] = error
            cursor.execute("ROLLBACK TO SAVEPOINT inbox_each")
        cursor.execute("RELEASE SAVEPOINT inbox_each")

    def unhandled(self, items: Sequence[T]) -> list[T]:
        """The items (``(input, context)`` pairs, as a batch handler gets them) whose events this consumer
        has not handled, recorded as handled in this transaction: one statement per ``CLAIM_ROWS`` items.
        An event twice in ``items`` counts once."""
        keys = [message_key(item[1]) for item in items]
        distinct = list(dict.fromkeys(keys))
        new: set[str] = set()
        for start in range(0, len(distinct), CLAIM_ROWS):
            new.update(self._claim(distinct[start : start + CLAIM_ROWS]))
        fresh: list[T] = []
        for item, key in zip(items, keys, strict=True):
            if key in new:
                new.discard(key)  # a second copy of the event in this batch is not new
                fresh.append(item)
        return fresh

    def _claim(self, keys: list[str]) -> list[str]:
        """Insert inbox rows for ``keys`` (distinct); the ones that were not there."""
        dialect, cursor, now = self.connection.dialect, self._cursor, self.inbox.clock()
        if dialect.name == "postgresql":
            cursor.execute(self.inbox._claim_array_sql(dialect), (self.consumer, now, keys))
            return [row[0] for row in cursor.fetchall()]
        arguments: list[Any] = []
        for key in keys:
            arguments += (self.consumer, key, now)
        if dialect.name == "sqlite":
            # Usually every key is new: then the row count says so, without RETURNING (sqlite3 gives up
            # the GIL at each row it steps). Otherwise take the insert back and ask which.
            cursor.execute("SAVEPOINT inbox_claim")
            cursor.execute(self.inbox._claim_sql(dialect, len(keys), returning=False), arguments)
            if cursor.rowcount == len(keys):
                cursor.execute("RELEASE SAVEPOINT inbox_claim")
                return keys
            cursor.execute("ROLLBACK TO SAVEPOINT inbox_claim")
            cursor.execute("RELEASE SAVEPOINT inbox_claim")
        cursor.execute(self.inbox._claim_sql(dialect, len(keys)), arguments)
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def _begun(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        raw = connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite" and not getattr(raw, "in_transaction", True):
            connection.exec_driver_sql("BEGIN")  # see _Shared: a first SAVEPOINT would commit on release
        yield connection


class _Shared:
    """One transaction shared by the members of a group; ``done`` once it committed (or failed)."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect()
        self.transaction: RootTransaction = self.connection.begin()
        raw = self.connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite" and not getattr(raw, "in_transaction", True):
            # pysqlite begins lazily, at the first write; a SAVEPOINT before it would be the outermost
            # transaction and its RELEASE would commit the member on its own
            self.connection.exec_driver_sql("BEGIN")
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.doomed = False  # a member failed without a savepoint of its own: roll back, fail them all

    def finish(self) -> None:
        try:
            if self.doomed:
                self.transaction.rollback()
                self.error = GroupRolledBack(
                    "the inbox's shared transaction was rolled back: a batch in it failed; try again"
                )
            else:
                self.transaction.commit()
        except BaseException as error:
            self.error = error
        finally:
            self.connection.close()
            self.done.set()


class GroupRolledBack(RuntimeError):
    """Another member of a group commit failed, taking this member's work back with it."""


class _GroupCommit:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._turn = threading.Lock()  # held by the member whose block runs
        self._count = threading.Lock()  # guards _waiting
        self._waiting = 0
        self._open: _Shared | None = None

    def doom(self) -> None:
        """The member whose block runs failed: the open shared transaction rolls back."""
        if self._open is not None:
            self._open.doomed = True

    @contextmanager
    def member(self) -> Iterator[Connection]:
        """The shared transaction's connection for one block; returns after that transaction committed
        (raising its commit's error, if any)."""
        with self._count:
            self._waiting += 1
        self._turn.acquire()
        with self._count:
            self._waiting -= 1
        try:
            shared = self._open = self._open or _Shared(self.engine)
        except BaseException:
            self._turn.release()
            raise
        try:
            yield shared.connection
        finally:
            with self._count:
                last = self._waiting == 0
            if last:  # nobody queued behind this block: commit for the whole group now
                self._open = None
                shared.finish()
            self._turn.release()
        shared.done.wait()
        if shared.error is not None:
            raise shared.error
