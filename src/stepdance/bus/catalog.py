"""The bus's own store, in SQLAlchemy Core on SQLite or PostgreSQL: buses, rules, targets, archives and
their events, replays, dead letters.

Methods are synchronous (callers run them in a thread) and answer plain records; "not found" is ``None`` or
``False``, so the client words AWS's errors itself. Driver errors become :mod:`stepdance.store.errors` in
one place (:func:`stepdance.store.sql.engine.mapped`). Lists are ordered by key and paged by the last key
returned.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stepdance.store.sql.engine import mapped, postgres_engines, sqlite_engines


@dataclass(frozen=True, slots=True)
class BusRecord:
    name: str
    description: str | None
    created: float
    modified: float


@dataclass(frozen=True, slots=True)
class RuleRecord:
    bus: str
    name: str
    pattern: str | None
    state: str
    description: str | None
    created: float
    modified: float


@dataclass(frozen=True, slots=True)
class TargetRecord:
    bus: str
    rule: str
    id: str
    shape: dict[str, Any]  # the target as PutTargets received it


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    name: str
    bus: str
    pattern: str | None
    description: str | None
    retention_days: int
    state: str
    created: float


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    archive: str
    event_id: str
    time: float  # when the bus received it
    body: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    name: str
    archive: str
    description: str | None
    event_start: float
    event_end: float
    destination: dict[str, Any]
    state: str
    reason: str | None
    started: float
    ended: float | None = None
    last_replayed: float | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    bus: str
    rule: str
    target_id: str
    target_arn: str
    event_id: str | None
    body: str
    error_code: str
    error_message: str
    attempts: int
    exhausted: str | None  # MaximumRetryAttempts, MaximumEventAgeInSeconds, or None (not retriable)
    created: float
    headers: dict[str, str] = field(default_factory=dict)


def _tables(md: MetaData, p: str) -> dict[str, Table]:
    key = String(512)
    return {
        "buses": Table(
            f"{p}buses",
            md,
            Column("name", key, primary_key=True),
            Column("description", Text),
            Column("created", Float, nullable=False),
            Column("modified", Float, nullable=False),
        ),
        "rules": Table(
            f"{p}rules",
            md,
            Column("bus", key, primary_key=True),
            Column("name", key, primary_key=True),
            Column("pattern", Text),
            Column("state", String(64), nullable=False),
            Column("description", Text),
            Column("created", Float, nullable=False),
            Column("modified", Float, nullable=False),
        ),
        "targets": Table(
            f"{p}targets",
            md,
            Column("bus", key, primary_key=True),
            Column("rule", key, primary_key=True),
            Column("id", key, primary_key=True),
            Column("shape", Text, nullable=False),
        ),
        "archives": Table(
            f"{p}archives",
            md,
            Column("name", key, primary_key=True),
            Column("bus", key, nullable=False),
            Column("pattern", Text),
            Column("description", Text),
            Column("retention_days", Integer, nullable=False),
            Column("state", String(64), nullable=False),
            Column("created", Float, nullable=False),
        ),
        "archived": Table(
            f"{p}archived_events",
            md,
            Column("archive", key, primary_key=True),
            Column("event_id", key, primary_key=True),
            Column("time", Float, nullable=False),
            Column("size", Integer, nullable=False),
            Column("body", Text, nullable=False),
            Column("headers", Text, nullable=False),
            Index(f"{p}archived_by_time", "archive", "time"),
        ),
        "replays": Table(
            f"{p}replays",
            md,
            Column("name", key, primary_key=True),
            Column("archive", key, nullable=False),
            Column("description", Text),
            Column("event_start", Float, nullable=False),
            Column("event_end", Float, nullable=False),
            Column("destination", Text, nullable=False),
            Column("state", String(64), nullable=False),
            Column("reason", Text),
            Column("started", Float, nullable=False),
            Column("ended", Float),
            Column("last_replayed", Float),
        ),
        "dead": Table(
            f"{p}dead_letters",
            md,
            Column("id", key, primary_key=True),
            Column("bus", key, nullable=False),
            Column("rule", key, nullable=False),
            Column("target_id", key, nullable=False),
            Column("target_arn", Text, nullable=False),
            Column("event_id", key),
            Column("body", Text, nullable=False),
            Column("error_code", String(256), nullable=False),
            Column("error_message", Text, nullable=False),
            Column("attempts", Integer, nullable=False),
            Column("exhausted", String(64)),
            Column("created", Float, nullable=False),
            Column("headers", Text, nullable=False),
            Index(f"{p}dead_by_target", "bus", "rule", "target_id", "created"),
        ),
    }


class Catalog:
    def __init__(
        self, writer: Engine, reader: Engine, *, schema: str | None = None, prefix: str = ""
    ) -> None:
        self.writer, self.reader = writer, reader
        self.metadata = MetaData(schema=schema)
        self.t = _tables(self.metadata, prefix)

    def create_schema(self) -> None:
        """Create what is missing; safe when several processes start at once (PostgreSQL's CREATE ... IF
        NOT EXISTS is not: two at once can both try, so creators take turns on an advisory lock)."""
        with mapped(), self.writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.schema import CreateSchema

                key = zlib.crc32(f"stepdance-bus:{self.metadata.schema}:{self.t['buses'].name}".encode())
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                if self.metadata.schema:
                    conn.execute(CreateSchema(self.metadata.schema, if_not_exists=True))
            self.metadata.create_all(conn, checkfirst=True)

    def close(self) -> None:
        self.writer.dispose()
        self.reader.dispose()

    def _read(self, statement: Any) -> list[Any]:
        with mapped(), self.reader.connect() as conn:
            return list(conn.execute(statement))

    # ------------------------------------------------------------------ buses

    def ensure_bus(self, name: str, now: float) -> None:
        with mapped(), self.writer.begin() as conn:
            _insert_ignore(
                conn, self.t["buses"], dict(name=name, description=None, created=now, modified=now)
            )

    def create_bus(self, record: BusRecord) -> bool:
        with mapped(), self.writer.begin() as conn:
            values = _row(record)
            return _insert_ignore(conn, self.t["buses"], values) == 1

    def get_bus(self, name: str) -> BusRecord | None:
        rows = self._read(select(self.t["buses"]).where(self.t["buses"].c.name == name))
        return BusRecord(*rows[0]) if rows else None

    def list_buses(self, prefix: str, after: str | None, limit: int) -> list[BusRecord]:
        return [BusRecord(*row) for row in self._read(_page(self.t["buses"], "name", prefix, after, limit))]

    def delete_bus(self, name: str) -> None:
        with mapped(), self.writer.begin() as conn:
            conn.execute(delete(self.t["buses"]).where(self.t["buses"].c.name == name))

    # ------------------------------------------------------------------ rules and targets

    def put_rule(self, record: RuleRecord) -> None:
        values = _row(record)
        with mapped(), self.writer.begin() as conn:
            _upsert(conn, self.t["rules"], values, ["bus", "name"], keep=["created"])

    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        rules = self.t["rules"]
        rows = self._read(select(rules).where(rules.c.bus == bus, rules.c.name == name))
        return RuleRecord(*rows[0]) if rows else None

    def list_rules(self, bus: str, prefix: str, after: str | None, limit: int) -> list[RuleRecord]:
        statement = _page(self.t["rules"], "name", prefix, after, limit).where(self.t["rules"].c.bus == bus)
        return [RuleRecord(*row) for row in self._read(statement)]

    def set_rule_state(self, bus: str, name: str, state: str, now: float) -> bool:
        rules = self.t["rules"]
        with mapped(), self.writer.begin() as conn:
            done = conn.execute(
                update(rules)
                .where(rules.c.bus == bus, rules.c.name == name)
                .values(state=state, modified=now)
            )
            return done.rowcount == 1

    def delete_rule(self, bus: str, name: str) -> None:
        with mapped(), self.writer.begin() as conn:
            conn.execute(
                delete(self.t["rules"]).where(self.t["rules"].c.bus == bus, self.t["rules"].c.name == name)
            )

    def put_targets(self, bus: str, rule: str, shapes: Sequence[dict[str, Any]]) -> None:
        with mapped(), self.writer.begin() as conn:
            for shape in shapes:
                values = dict(bus=bus, rule=rule, id=shape["Id"], shape=json.dumps(shape))
                _upsert(conn, self.t["targets"], values, ["bus", "rule", "id"])

    def list_targets(self, bus: str, rule: str) -> list[TargetRecord]:
        targets = self.t["targets"]
        rows = self._read(
            select(targets).where(targets.c.bus == bus, targets.c.rule == rule).order_by(targets.c.id)
        )
        return [TargetRecord(row.bus, row.rule, row.id, json.loads(row.shape)) for row in rows]

    def remove_targets(self, bus: str, rule: str, ids: Iterable[str]) -> None:
        targets = self.t["targets"]
        with mapped(), self.writer.begin() as conn:
            conn.execute(
                delete(targets).where(
                    targets.c.bus == bus, targets.c.rule == rule, targets.c.id.in_(list(ids))
                )
            )

    def snapshot(self) -> tuple[list[BusRecord], list[RuleRecord], list[TargetRecord], list[ArchiveRecord]]:
        """Every bus, rule, target and archive, read in one transaction (what a worker runs from)."""
        t = self.t
        with mapped(), self.reader.connect() as conn, conn.begin():
            rows: list[list[Any]] = [
                list(conn.execute(select(t[name]))) for name in ("buses", "rules", "targets", "archives")
            ]
        return (
            [BusRecord(*row) for row in rows[0]],
            [RuleRecord(*row) for row in rows[1]],
            [TargetRecord(r.bus, r.rule, r.id, json.loads(r.shape)) for r in rows[2]],
            [ArchiveRecord(*row) for row in rows[3]],
        )

    # ------------------------------------------------------------------ archives

    def create_archive(self, record: ArchiveRecord) -> bool:
        values = _row(record)
        with mapped(), self.writer.begin() as conn:
            return _insert_ignore(conn, self.t["archives"], values) == 1

    def get_archive(self, name: str) -> ArchiveRecord | None:
        rows = self._read(select(self.t["archives"]).where(self.t["archives"].c.name == name))
        return ArchiveRecord(*rows[0]) if rows else None

    def list_archives(
        self, prefix: str, bus: str | None, after: str | None, limit: int
    ) -> list[ArchiveRecord]:
        statement = _page(self.t["archives"], "name", prefix, after, limit)
        if bus is not None:
            statement = statement.where(self.t["archives"].c.bus == bus)
        return [ArchiveRecord(*row) for row in self._read(statement)]

    def update_archive(self, name: str, **values: Any) -> None:
        with mapped(), self.writer.begin() as conn:
            conn.execute(update(self.t["archives"]).where(self.t["archives"].c.name == name).values(**values))

    def delete_archive(self, name: str) -> None:
        with mapped(), self.writer.begin() as conn:
            conn.execute(delete(self.t["archived"]).where(self.t["archived"].c.archive == name))
            conn.execute(delete(self.t["archives"]).where(self.t["archives"].c.name == name))

    def archive_events(self, events: Sequence[ArchivedEvent]) -> None:
        with mapped(), self.writer.begin() as conn:
            for e in events:
                values = dict(
                    archive=e.archive,
                    event_id=e.event_id,
                    time=e.time,
                    size=len(e.body.encode()),
                    body=e.body,
                    headers=json.dumps(e.headers),
                )
                _insert_ignore(conn, self.t["archived"], values)

    def archive_stats(self, name: str) -> tuple[int, int]:
        archived = self.t["archived"]
        rows = self._read(
            select(func.count(), func.coalesce(func.sum(archived.c.size), 0)).where(
                archived.c.archive == name
            )
        )
        return int(rows[0][0]), int(rows[0][1])

    def archived_events(
        self, name: str, start: float, end: float, after: tuple[float, str] | None, limit: int
    ) -> list[ArchivedEvent]:
        """Events archived in [start, end), by time then id, after the (time, id) ``after``."""
        a = self.t["archived"]
        statement = select(a.c.archive, a.c.event_id, a.c.time, a.c.body, a.c.headers).where(
            a.c.archive == name, a.c.time >= start, a.c.time < end
        )
        if after is not None:
            statement = statement.where(
                (a.c.time > after[0]) | and_(a.c.time == after[0], a.c.event_id > after[1])
            )
        statement = statement.order_by(a.c.time, a.c.event_id).limit(limit)
        return [ArchivedEvent(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in self._read(statement)]

    def purge_archive(self, name: str, before: float) -> int:
        archived = self.t["archived"]
        with mapped(), self.writer.begin() as conn:
            done = conn.execute(delete(archived).where(archived.c.archive == name, archived.c.time < before))
            return int(done.rowcount or 0)

    # ------------------------------------------------------------------ replays

    def create_replay(self, record: ReplayRecord) -> bool:
        with mapped(), self.writer.begin() as conn:
            return _insert_ignore(conn, self.t["replays"], _replay_values(record)) == 1

    def get_replay(self, name: str) -> ReplayRecord | None:
        rows = self._read(select(self.t["replays"]).where(self.t["replays"].c.name == name))
        return _replay(rows[0]) if rows else None

    def list_replays(
        self, prefix: str, state: str | None, after: str | None, limit: int
    ) -> list[ReplayRecord]:
        statement = _page(self.t["replays"], "name", prefix, after, limit)
        if state is not None:
            statement = statement.where(self.t["replays"].c.state == state)
        return [_replay(row) for row in self._read(statement)]

    def update_replay(self, name: str, *, expect: Sequence[str] | None = None, **values: Any) -> bool:
        """Change a replay; with ``expect``, only while its state is one of those (a claim)."""
        replays = self.t["replays"]
        statement = update(replays).where(replays.c.name == name)
        if expect is not None:
            statement = statement.where(replays.c.state.in_(list(expect)))
        if "destination" in values:
            values["destination"] = json.dumps(values["destination"])
        with mapped(), self.writer.begin() as conn:
            return conn.execute(statement.values(**values)).rowcount == 1

    # ------------------------------------------------------------------ dead letters

    def add_dead_letter(self, letter: DeadLetter) -> None:
        values = {name: getattr(letter, name) for name in DeadLetter.__dataclass_fields__}
        values["headers"] = json.dumps(letter.headers)
        with mapped(), self.writer.begin() as conn:
            _insert_ignore(conn, self.t["dead"], values)

    def dead_letters(
        self,
        *,
        bus: str | None = None,
        rule: str | None = None,
        target_id: str | None = None,
        ids: Sequence[str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[DeadLetter]:
        d = self.t["dead"]
        statement = select(d)
        for column, value in ((d.c.bus, bus), (d.c.rule, rule), (d.c.target_id, target_id)):
            if value is not None:
                statement = statement.where(column == value)
        if ids is not None:
            statement = statement.where(d.c.id.in_(list(ids)))
        if after is not None:
            statement = statement.where(d.c.id > after)
        return [_dead_letter(row) for row in self._read(statement.order_by(d.c.id).limit(limit))]

    def delete_dead_letters(self, ids: Sequence[str]) -> None:
        with mapped(), self.writer.begin() as conn:
            conn.execute(delete(self.t["dead"]).where(self.t["dead"].c.id.in_(list(ids))))


def _page(table: Table, key: str, prefix: str, after: str | None, limit: int) -> Any:
    column = table.c[key]
    statement = select(table)
    if prefix:
        statement = statement.where(column.startswith(prefix, autoescape=True))
    if after is not None:
        statement = statement.where(column > after)
    return statement.order_by(column).limit(limit)


def _dialect_insert(conn: Connection, table: Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert unless the key exists; the number of rows inserted (0 or 1)."""
    statement = _dialect_insert(conn, table).values(**values).on_conflict_do_nothing()
    key = next(iter(table.primary_key.columns))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT .. ON CONFLICT
    return 0 if conn.execute(statement.returning(key)).first() is None else 1


def _upsert(
    conn: Connection, table: Table, values: dict[str, Any], keys: list[str], keep: Sequence[str] = ()
) -> None:
    statement = _dialect_insert(conn, table).values(**values)
    changed = {k: v for k, v in values.items() if k not in keys and k not in keep}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def _replay_values(r: ReplayRecord) -> dict[str, Any]:
    return dict(
        name=r.name,
        archive=r.archive,
        description=r.description,
        event_start=r.event_start,
        event_end=r.event_end,
        destination=json.dumps(r.destination),
        state=r.state,
        reason=r.reason,
        started=r.started,
        ended=r.ended,
        last_replayed=r.last_replayed,
    )


def _replay(row: Any) -> ReplayRecord:
    return ReplayRecord(
        row.name,
        row.archive,
        row.description,
        row.event_start,
        row.event_end,
        json.loads(row.destination),
        row.state,
        row.reason,
        row.started,
        row.ended,
        row.last_replayed,
    )


def _dead_letter(row: Any) -> DeadLetter:
    return DeadLetter(
        row.id,
        row.bus,
        row.rule,
        row.target_id,
        row.target_arn,
        row.event_id,
        row.body,
        row.error_code,
        row.error_message,
        row.attempts,
        row.exhausted,
        row.created,
        json.loads(row.headers),
    )


def open_catalog(url: str, *, schema: str | None = None, prefix: str = "") -> Catalog:
    """``sqlite:///path/bus.db`` or ``postgresql://...[?schema=name][&prefix=p]`` (as the engine store's
    URLs); the tables are created if missing. Keyword arguments beat the URL's options."""
    base, _, query_text = url.partition("?")
    query = dict(parse_qsl(query_text))
    schema = schema or query.pop("schema", None)
    prefix = prefix or query.pop("prefix", "")
    url = f"{base}?{urlencode(query)}" if query else base
    scheme = url.split("://", 1)[0]
    if scheme == "sqlite":
        writer, reader = sqlite_engines(url.split("://", 1)[1].removeprefix("/") or ":memory:")
    elif scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        writer, reader = postgres_engines(url)
    else:
        raise ValueError(f"Unsupported bus store URL {url!r}: use sqlite:///path or postgresql://...")
    catalog = Catalog(writer, reader, schema=schema, prefix=prefix)
    catalog.create_schema()
    return catalog


def _row(record: Any) -> dict[str, Any]:
    """A record's fields as the values of its row (the columns are named after them)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}
