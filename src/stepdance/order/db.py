"""Each service's own database: a SQLite file of its own, or a schema of its own on a PostgreSQL server.

==================================  ====================================================================
``url``                             the ``payment`` service's database
==================================  ====================================================================
``None``, ``""``, ``sqlite://``      ``<data_dir>/payment.db``
``sqlite:///some/dir``              ``/some/dir/payment.db`` (a SQLite URL names the directory: each
                                    service has a file of its own there)
``postgresql://host:5432/db``       schema ``stepdance_payment`` on that server (created if missing)
``postgresql://...?schema=run1``    schema ``run1_payment`` (the engine store's ``schema=`` option names
                                    the deployment; the store's ``prefix=`` option is ignored)
==================================  ====================================================================

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on disk when it returns). Every transaction
there begins with ``BEGIN IMMEDIATE``, taking the write lock up front: a transaction that read first and
wrote later could otherwise fail with "database is locked" when another writer committed in between.
Reads made through :func:`reading` skip it and run beside the writer, as WAL allows.

On PostgreSQL every connection's ``search_path`` is the service's schema, so tables are created and found
there without naming it, including the bus's inbox and outbox tables and statements they compile once.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, exc, make_url, text
from sqlalchemy.schema import CreateSchema

from stepdance.bus.driver_sql import reading as read_only

SQLITE_BUSY_SECONDS = 30.0
_READ = "stepdance_order_read"  # execution option: a read-only connection (no BEGIN IMMEDIATE)
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # unquoted in search_path: lower case only


class ServiceDbError(Exception):
    """A service database that cannot be opened; the message names the URL, file or server address."""


def open_service_db(service: str, url: str | None, data_dir: Path, *, schema: str | None = None) -> Engine:
    """The engine of ``service``'s own database (see the module's table); ``schema`` overrides the
    PostgreSQL schema's name. Raises :class:`ServiceDbError` when it cannot be reached or created."""
    if not _NAME.fullmatch(service):
        raise ServiceDbError(f"bad service name {service!r}: lower-case letters, digits and _ only")
    scheme = url.split("://", 1)[0] if url and "://" in url else (url or "sqlite")
    if scheme == "sqlite":
        rest = url.split("://", 1)[1] if url and "://" in url else ""
        directory = Path(rest[1:]) if rest.startswith("/") and rest != "/" else data_dir
        return _sqlite(service, directory / f"{service}.db")
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        assert url is not None
        return _postgres(service, url, schema)
    raise ServiceDbError(
        f"unsupported database URL {url!r} for the {service} service: use sqlite:///dir or postgresql://..."
    )


@contextmanager
def begun(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    """``connection`` as given (the caller owns its transaction), or a transaction of our own."""
    if connection is not None:
        yield connection
        return
    with engine.begin() as own:
        yield own


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only (on SQLite it does not take the write lock). It ends with COMMIT rather than
    ROLLBACK, which would make psycopg drop the statements it prepared on the connection (see
    :func:`stepdance.bus.driver_sql.reading`)."""
    with read_only(engine) as connection:
        yield connection.execution_options(**{_READ: True})


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """Create ``metadata``'s missing tables; safe when several processes start at once."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            where = conn.execute(text("SELECT current_schema()")).scalar()
            key = zlib.crc32(f"stepdance.order:{where}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        metadata.create_all(conn, checkfirst=True)


def _sqlite(service: str, path: Path) -> Engine:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ServiceDbError(
            f"cannot create the {service} database's directory {path.parent}: {error}"
        ) from None
    args = {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
    engine = create_engine(f"sqlite:///{path}", connect_args=args, pool_size=8, max_overflow=8)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours (below), not pysqlite's implicit one
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(_READ):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.connect():
            pass
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise ServiceDbError(f"cannot open the {service} database {path}: {_first_line(error)}") from None
    return engine


def _postgres(service: str, url: str, schema: str | None) -> Engine:
    base, _, query_text = url.partition("?")
    query = dict(parse_qsl(query_text))
    deployment = query.pop("schema", None)
    query.pop("prefix", None)
    schema = schema or f"{deployment or 'stepdance'}_{service}"
    if not _NAME.fullmatch(schema):
        raise ServiceDbError(
            f"bad schema name {schema!r} for the {service} service: lower-case letters, digits and _ only"
        )
    rest = base.split("://", 1)[1]
    driver_url = f"postgresql+psycopg://{rest}" + (f"?{urlencode(query)}" if query else "")
    try:
        parsed = make_url(driver_url)
    except exc.ArgumentError:
        raise ServiceDbError(f"bad database URL {url!r} for the {service} service") from None
    address = f"{parsed.host or 'the local socket'}:{parsed.port or 5432}"
    args = {"options": f"-c search_path={schema} -c synchronous_commit=on", "connect_timeout": 5}
    engine = create_engine(parsed, connect_args=args, pool_size=4, max_overflow=12)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(schema.encode())})
            conn.execute(CreateSchema(schema, if_not_exists=True))
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise ServiceDbError(
            f"cannot reach the {service} database at {address} "
            f"({parsed.render_as_string(hide_password=True)}): {_first_line(error)}"
        ) from None
    return engine


def _first_line(error: exc.SQLAlchemyError) -> str:
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
