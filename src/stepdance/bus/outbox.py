"""A transactional outbox: a service's state change and the events it publishes commit in one local
transaction in the service's own database; a relay publishes them on the bus after the commit.

::

    outbox = Outbox(engine)                         # the service's SQLAlchemy engine (SQLite or PostgreSQL)
    with outbox.transaction() as tx:
        tx.execute(update(orders).values(status="PAID").where(orders.c.id == order_id))
        tx.publish({"Source": "payment", "DetailType": "PaymentCharged", "Detail": json.dumps({...})})

    async with OutboxRelay(outbox, bus):            # moves committed rows to the bus, oldest first
        ...

A rolled-back transaction leaves no row, so nothing is published. A row stays until the bus accepted its
event, so a crash before or during the relay publishes it after the restart; the event id is fixed when
the row is written, so a row published twice (a crash between the publish and the delete) is one event to
an :class:`~stepdance.bus.inbox.Inbox`. Entries are checked when written (a bad entry fails the service's
transaction); an entry the bus refuses later (an unknown bus) stays in the table with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Dialect

from stepdance.aio import in_thread, wait_event
from stepdance.away import log_failure
from stepdance.bus import headers as h
from stepdance.bus import ids
from stepdance.bus.driver_sql import cursor, placeholder, reading, table_name
from stepdance.bus.envelope import DEFAULT_MAX_ENTRY_BYTES, check_entry, event_time, iso_time

if TYPE_CHECKING:
    from stepdance.bus.runtime import Bus
    from stepdance.bus.targets import DeliveryContext

log = logging.getLogger(__name__)
ROWS_PER_INSERT = 200  # 800 parameters: under SQLite's oldest limit (999)
RETRIED_ERRORS = frozenset({"InternalFailure", "ThrottlingException"})


class OutboxEntryError(ValueError):
    """The entry would be refused by PutEvents; ``code`` and ``message`` are the result entry's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    event_id: str
    entry: dict[str, Any]
    headers: dict[str, str]


class Outbox:
    def __init__(
        self,
        engine: Engine,
        *,
        table: str = "outbox",
        schema: str | None = None,
        clock: Callable[[], float] = time.time,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        create: bool = True,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.max_entry_bytes = max_entry_bytes
        self.table = Table(
            table,
            MetaData(schema=schema),
            Column("seq", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(128), nullable=False),
            Column("entry", Text, nullable=False),
            Column("headers", Text, nullable=False),
            Column("created", Float, nullable=False),
            Column("error", Text),  # why the bus refused it; such a row is not relayed again
        )
        self._sql: dict[str, _Statements] = {}
        # connection.info keys (the pooled connection's): rows written in its transaction; then committed
        self._written = f"stepdance.outbox.{id(self)}.written"
        self._wake_on_checkin = f"stepdance.outbox.{id(self)}.committed"
        _outboxes_of(engine).add(self)
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        # SQLite has one writer: when the relay's delete meets a service transaction on the lock, SQLite's
        # busy handler sleeps (1, 2, 5... ms), which showed as idle time. The outbox's own writers take turns
        # in this process instead.
        self._writing: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        if create:
            self.table.metadata.create_all(engine, checkfirst=True)

    @contextmanager
    def transaction(self) -> Iterator[OutboxTransaction]:
        """One transaction of the service's database in which it changes its state and publishes. The
        events it publishes are written together (one statement) when the block ends, before the commit."""
        with self._writing, self.engine.begin() as connection:
            tx = OutboxTransaction(self, connection)
            yield tx
            tx.flush()
        self.notify()

    def publish(
        self,
        connection: Connection,
        entry: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        caused_by: DeliveryContext | None = None,
    ) -> str:
        """Write ``entry`` (a PutEvents entry) in ``connection``'s transaction; its event id. ``caused_by``:
        the delivery that caused it (its correlation id and trace carry on); ``headers``: set them instead."""
        event_id, row = self.row(entry, headers=headers, caused_by=caused_by)
        self.write(connection, [row])
        return event_id

    def row(
        self,
        entry: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        caused_by: DeliveryContext | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The event id and the outbox row of ``entry``, checked as PutEvents checks it."""
        error = check_entry(entry, self.max_entry_bytes)
        if error is not None:
            raise OutboxEntryError(error.code, error.message)
        event_id = ids.event_id()
        stored = dict(entry)
        now = self.clock()
        # the event happened now, with the state change, not when the relay gets to it
        stored["Time"] = event_time(entry["Time"]) if entry.get("Time") is not None else iso_time(now)
        given = dict(caused_by.caused_headers()) if caused_by is not None else {}
        given.update(headers or {})
        row = dict(
            event_id=event_id,
            entry=orjson.dumps(stored).decode(),
            headers=orjson.dumps(h.for_event(event_id, given, entry)).decode(),
            created=now,
        )
        return event_id, row

    def write(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert outbox rows in ``connection``'s transaction; the relay is woken once it commits."""
        if not rows:
            return
        statements, found = self._statements(connection.dialect), cursor(connection)
        if statements.insert_arrays:
            found.execute(statements.insert_arrays, [[r[name] for r in rows] for name in _ROW])
        else:
            # one statement per chunk rather than executemany: sqlite3 lets go of the GIL at every row it
            # steps, and a thread giving it up that often waits for it behind the event loop each time
            for start in range(0, len(rows), ROWS_PER_INSERT):
                values = [r[name] for r in rows[start : start + ROWS_PER_INSERT] for name in _ROW]
                found.execute(statements.insert_rows(len(values) // len(_ROW)), values)
        # the engine's one commit listener wakes the relay (a listener added per transaction cost a third
        # as much as the rows' insert)
        connection.info[self._written] = True

    def _committing(self, info: dict[Any, Any]) -> None:
        # SQLAlchemy calls this just BEFORE the commit: a relay woken now may read before the rows are
        # visible and then sleep a whole poll. Wake it now (the usual case: it reads later) and again when
        # the connection goes back to the pool, after the commit.
        if info.pop(self._written, False):
            info[self._wake_on_checkin] = True
            self.notify()

    def _rolling_back(self, info: dict[Any, Any]) -> None:
        info.pop(self._written, None)

    def _checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(self._wake_on_checkin, False):
            self.notify()

    # ------------------------------------------------------------------ the relay's side

    def on_commit(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from any thread) after a transaction that published commits; the remover."""
        with self._lock:
            self._listeners.append(listener)
        return lambda: self._remove(listener)

    def _remove(self, listener: Callable[[], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def pending(self, limit: int) -> list[OutboxRow]:
        with reading(self.engine) as conn:
            return self._read(conn, limit)

    def _read(self, conn: Connection, limit: int) -> list[OutboxRow]:
        found = cursor(conn)
        found.execute(self._statements(conn.dialect).pending, (limit,))
        rows = found.fetchall()
        loads = orjson.loads
        return [
            OutboxRow(seq, event_id, loads(entry), loads(headers)) for seq, event_id, entry, headers in rows
        ]

    def published(self, seqs: list[int]) -> None:
        with self._writing, self.engine.begin() as conn:
            self._delete(conn, seqs)

    def next_pending(self, published: list[int], limit: int) -> list[OutboxRow]:
        """Delete the ``published`` rows and read the next pending ones, in one transaction: the relay's
        one round trip per batch."""
        if not published:
            return self.pending(limit)
        with self._writing, self.engine.begin() as conn:
            self._delete(conn, published)
            return self._read(conn, limit)

    def _delete(self, conn: Connection, seqs: list[int]) -> None:
        statements = self._statements(conn.dialect)
        if conn.dialect.name == "postgresql":  # one array: one statement text, prepared once
            cursor(conn).execute(f"{statements.delete_any}", (seqs,))
            return
        marks = ", ".join([statements.mark] * len(seqs))
        cursor(conn).execute(f"{statements.delete} ({marks})", seqs)

    def _statements(self, dialect: Dialect) -> _Statements:
        found = self._sql.get(dialect.name)
        if found is None:
            mark, table = placeholder(dialect), table_name(dialect, self.table)
            found = self._sql[dialect.name] = _Statements(
                mark=mark,
                insert=f"INSERT INTO {table} (event_id, entry, headers, created) VALUES ",
                pending=f"SELECT seq, event_id, entry, headers FROM {table} WHERE error IS NULL "
                f"ORDER BY seq LIMIT {mark}",
                delete=f"DELETE FROM {table} WHERE seq IN",
                delete_any=f"DELETE FROM {table} WHERE seq = ANY(%s)",
                insert_arrays=(
                    # columns as arrays, their rows in order (seq follows it): see Inbox._claim_array_sql
                    f"INSERT INTO {table} (event_id, entry, headers, created) "
                    "SELECT e, n, h, c FROM unnest(%s::varchar[], %s::text[], %s::text[], %s::float8[]) "
                    "WITH ORDINALITY AS u(e, n, h, c, i) ORDER BY i"
                    if dialect.name == "postgresql"
                    else ""
                ),
            )
        return found

    def refused(self, seq: int, error: str) -> None:
        with self._writing, self.engine.begin() as conn:
            conn.execute(update(self.table).where(self.table.c.seq == seq).values(error=error))


_ROW = ("event_id", "entry", "headers", "created")


@dataclass(frozen=True, slots=True)
class _Statements:
    mark: str
    insert: str  # followed by the rows' values
    pending: str
    delete: str  # followed by the parenthesised list of seqs
    delete_any: str  # PostgreSQL: the seqs as one array
    insert_arrays: str  # PostgreSQL: the rows as four column arrays; "" elsewhere

    def insert_rows(self, count: int) -> str:
        row = f"({self.mark}, {self.mark}, {self.mark}, {self.mark})"
        return self.insert + ", ".join([row] * count)


_OUTBOXES: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[Outbox]] = weakref.WeakKeyDictionary()
_OUTBOXES_LOCK = threading.Lock()


def _outboxes_of(engine: Engine) -> weakref.WeakSet[Outbox]:
    """The outboxes told when a transaction on ``engine`` commits or rolls back and when one of its
    connections goes back to its pool: one listener of each per engine however many outboxes it serves,
    and none keeps an outbox alive."""
    with _OUTBOXES_LOCK:
        outboxes = _OUTBOXES.get(engine)
        if outboxes is None:
            outboxes = _OUTBOXES[engine] = weakref.WeakSet()
            members = outboxes

            def committing(connection: Connection) -> None:
                for outbox in list(members):
                    outbox._committing(connection.info)

            def rolling_back(connection: Connection) -> None:
                if connection.invalidated:  # the database dropped it: its info is gone, and unreachable
                    return
                for outbox in list(members):
                    outbox._rolling_back(connection.info)

            def checked_in(dbapi_connection: Any, record: Any) -> None:
                for outbox in list(members):
                    outbox._checked_in(dbapi_connection, record)

            event.listen(engine, "commit", committing)
            event.listen(engine, "rollback", rolling_back)
            event.listen(engine, "checkin", checked_in)
        return outboxes


class OutboxTransaction:
    """The connection of an outbox transaction: ``execute`` the state change, ``publish`` its events.

    Published events are kept and written in one statement when the transaction's block ends (``flush``
    writes them earlier): an event published in the block is not yet in the outbox table for a query run
    in the same block."""

    def __init__(self, outbox: Outbox, connection: Connection) -> None:
        self.outbox = outbox
        self.connection = connection
        self._rows: list[dict[str, Any]] = []

    def execute(self, statement: Any, parameters: Any = None) -> CursorResult[Any]:
        return self.connection.execute(statement, parameters)

    def publish(
        self,
        entry: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        caused_by: DeliveryContext | None = None,
    ) -> str:
        event_id, row = self.outbox.row(entry, headers=headers, caused_by=caused_by)
        self._rows.append(row)
        return event_id

    def flush(self) -> None:
        """Write the events published so far."""
        rows, self._rows = self._rows, []
        self.outbox.write(self.connection, rows)


class OutboxRelay:
    """Publishes an outbox's committed rows on the bus in commit order, up to ``batch`` rows in one transport
    publish (each entry checked as PutEvents checks it, without PutEvents' 10-entry limit) and one delete."""

    def __init__(self, outbox: Outbox, bus: Bus, *, batch: int = 500, poll_seconds: float = 1.0) -> None:
        self.outbox = outbox
        self.bus = bus
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; how many the bus accepted."""
        rows = await in_thread(self.outbox.pending, self.batch)
        done = await self._publish(rows)
        if done:
            await in_thread(self.outbox.published, done)
        return len(done)

    async def _publish(self, rows: list[OutboxRow]) -> list[int]:
        """Publish ``rows``; the seqs the bus accepted (refused rows get their error)."""
        if not rows:
            return []
        answer = await self.bus.publish_entries(
            [r.entry for r in rows],
            ids=[r.event_id for r in rows],
            headers=[r.headers for r in rows],
            from_outbox=True,
        )
        done = []
        for row, result in zip(rows, answer["Entries"], strict=True):
            if "EventId" in result:
                done.append(row.seq)
            elif result.get("ErrorCode") not in RETRIED_ERRORS:
                log.error("the bus refused outbox event %s: %s", row.event_id, result)
                await in_thread(
                    self.outbox.refused, row.seq, f"{result['ErrorCode']}: {result['ErrorMessage']}"
                )
        return done

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def woken() -> None:
            loop.call_soon_threadsafe(wake.set)

        remove = self.outbox.on_commit(woken)
        done: list[int] = []  # published, to delete with the next read
        try:
            while True:
                wake.clear()
                try:
                    rows = await in_thread(self.outbox.next_pending, done, self.batch)
                    done = []
                    if rows:
                        done = await self._publish(rows)
                        continue  # more may have come meanwhile; the next read deletes these
                except Exception as error:
                    log_failure(log, error, "relaying the outbox", f"trying again in {self.poll_seconds}s")
                await wait_event(wake, self.poll_seconds)
        finally:
            remove()
            if done:  # stopped between a publish and its delete: delete now, or they go out again
                try:
                    self.outbox.published(done)
                except Exception as error:
                    log_failure(log, error, "deleting published outbox rows", "they will be published again")

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="stepdance-outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
