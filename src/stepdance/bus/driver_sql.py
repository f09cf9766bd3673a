"""SQL text for the statements the outbox and the inbox run for every event, written once per dialect and run
on the driver's cursor: SQLAlchemy's execution costs many times the statement itself at that rate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect, Engine


def placeholder(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def table_name(dialect: Dialect, table: Table) -> str:
    """``table``'s name as the dialect writes it (schema-qualified, quoted where needed)."""
    return dialect.identifier_preparer.format_table(table)


def cursor(connection: Connection) -> Any:
    """A driver cursor in ``connection``'s transaction."""
    return connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that ends its transaction with COMMIT, not the ROLLBACK closing it would send:
    psycopg drops every statement it prepared on a connection that rolls back, so the writes that run next on
    it would be parsed and planned again (a third of a PostgreSQL deployment's statements were re-parses)."""
    with engine.connect() as connection:
        yield connection
        # through SQLAlchemy and on the driver's connection: statements run on a driver cursor began a
        # transaction SQLAlchemy does not know of
        connection.commit()
        connection.connection.dbapi_connection.commit()  # type: ignore[union-attr]
