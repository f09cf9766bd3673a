"""Connections: SQLite (WAL, synchronous=FULL, writes under BEGIN IMMEDIATE) and PostgreSQL (psycopg 3,
synchronous_commit=on), schema creation, and the one place driver errors become store errors."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.schema import CreateSchema

from stepdance.store.errors import StoreError, StoreUnavailable
from stepdance.store.sql import arrays
from stepdance.store.sql.schema import Tables

SQLITE_BUSY_MS = 30_000


@contextmanager
def mapped() -> Iterator[None]:
    """Turn SQLAlchemy/driver errors into :mod:`stepdance.store.errors`."""
    try:
        yield
    except StoreError:
        raise
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise StoreUnavailable(str(error.orig or error)) from error
    except exc.SQLAlchemyError as error:
        raise StoreError(str(error)) from error
    except Exception as error:
        # Errors psycopg raises itself, not through SQLAlchemy (the end of a pipeline): DB-API classes.
        kinds = {cls.__name__ for cls in type(error).__mro__}
        if type(error).__module__.split(".")[0] not in ("psycopg", "sqlite3"):
            raise
        if kinds & {"OperationalError", "InterfaceError"}:
            raise StoreUnavailable(str(error)) from error
        raise StoreError(str(error)) from error


def integrity_error(error: BaseException) -> bool:
    """A unique key was taken (SQLAlchemy's or the driver's own error, or a store error raised from one)."""
    cause = error.__cause__ if isinstance(error, StoreError) else error
    if isinstance(cause, exc.IntegrityError):
        return True
    return "IntegrityError" in {c.__name__ for c in type(cause).__mro__}


def reusable(dbapi_connection: Any) -> bool:
    """Whether a driver connection used directly can go back to the pool: not broken, and (psycopg) back
    out of the autocommit mode the batched write path switches it to."""
    return not (
        getattr(dbapi_connection, "broken", False) or getattr(dbapi_connection, "autocommit", False) is True
    )


def sqlite_engines(path: str) -> tuple[Engine, Engine]:
    """A writer (every transaction takes the write lock up front, so two writers never deadlock on an
    upgrade) and a reader (deferred transactions, which WAL lets run beside the writer)."""
    if path not in ("", ":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    args = {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
    writer = create_engine(url, connect_args=args, pool_size=2, max_overflow=2)
    reader = create_engine(url, connect_args=args, pool_size=4, max_overflow=8)
    _sqlite_session(writer, "BEGIN IMMEDIATE")
    _sqlite_session(reader, None)
    return writer, reader


def _sqlite_session(engine: Engine, begin: str | None) -> None:
    """``begin=None``: each statement is its own (implicit, snapshot-consistent) read transaction."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    if begin is not None:

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql(begin)


def postgres_engines(url: str) -> tuple[Engine, Engine]:
    """A writer and a reader; the reader runs each statement in its own transaction (autocommit), which
    saves the BEGIN and ROLLBACK round trips a single SELECT does not need. ``url`` is
    ``postgresql://...``; the psycopg 3 driver is used whatever the URL names."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        url = f"postgresql+psycopg://{rest}"
    args = {"options": "-c synchronous_commit=on", "connect_timeout": 5}
    writer = create_engine(url, pool_size=4, max_overflow=4, connect_args=args)
    reader = create_engine(
        url,
        pool_size=8,
        max_overflow=8,
        connect_args=args,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
    )
    for engine in (writer, reader):
        event.listen(engine, "connect", _binary_arrays)
    return writer, reader


def _binary_arrays(dbapi_connection: Any, _record: Any) -> None:
    """Send lists in binary (five times faster than array literals, which must escape every JSON
    document they carry), and the batch's ``unnest`` columns packed already (:mod:`.arrays`)."""
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)
    arrays.register(dbapi_connection)


def create_all(engine: Engine, tables: Tables) -> None:
    """Create what is missing; safe when several processes start at once."""
    with mapped(), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            schema = tables.metadata.schema
            key = zlib.crc32(f"stepdance:{schema}:{tables.executions.name}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            if schema:
                conn.execute(CreateSchema(schema, if_not_exists=True))
        tables.metadata.create_all(conn, checkfirst=True)


def drop_all(engine: Engine, tables: Tables) -> None:
    with mapped(), engine.begin() as conn:
        tables.metadata.drop_all(conn, checkfirst=True)
