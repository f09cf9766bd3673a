"""SQL text for the statements the outbox and the inbox run for every event, written once per dialect and run
on the driver's cursor: SQLAlchemy's execution costs many times the statement itself at that rate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect


def placeholder(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def table_name(dialect: Dialect, table: Table) -> str:
    """``table``'s name as the dialect writes it (schema-qualified, quoted where needed)."""
    return dialect.identifier_preparer.format_table(table)


def cursor(connection: Connection) -> Any:
    """A driver cursor in ``connection``'s transaction."""
    return connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
