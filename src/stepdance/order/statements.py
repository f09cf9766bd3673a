"""The services' hot statements: written once with SQLAlchemy, compiled once per dialect, run on the driver.

::

    insert = Statement(lambda d: d.insert(table).values(...).on_conflict_do_nothing().returning(...))
    row = insert.first(tx, order_id="o-1", ...)     # {"order_id": "o-1"}, or None when nothing came back
    charge_once = insert_once(charge_table, charge_table.c.order_id, skip=("refunded_at",))  # the usual one

``d`` is the dialect's module (:mod:`sqlalchemy.dialects.sqlite` or :mod:`~sqlalchemy.dialects.postgresql`),
for the constructs that differ between them (``insert(...).on_conflict_do_nothing()``). Parameters are the
statement's ``bindparam`` names; values written into the statement itself (``.values(status="x")``) are
sent as they were compiled.

Why: a service call runs for every order, and SQLAlchemy Core builds, keys, looks up and sets up a statement
on every execution, which costs ten to twenty times what SQLite takes to run it (a nine-column insert built
per call: ~300 µs of Core against ~20 µs in the driver, on a 2-core test machine). Here the compiled SQL and the order of its parameters are
kept per dialect, and each call is one ``cursor.execute`` on the DB-API connection of the caller's
transaction. What Core would add and these statements keep:

- the transaction: a connection not yet in one is begun first, as Core's autobegin would (on SQLite that
  is ``BEGIN IMMEDIATE``, see :mod:`.db`);
- the errors: a driver error is raised as SQLAlchemy's (``OperationalError``, ``IntegrityError``, ...);
- the types: parameters go through the dialect's conversions (SQLite's float for a ``Float``), and a
  statement returning a column that the driver would not give as SQLAlchemy does (anything but strings,
  integers and floats) is refused when it is compiled, so a column type added later cannot be read wrong.

Not kept: SQLAlchemy's execution events (``before_cursor_execute``, ``echo``) do not see these statements.
Reads made for audits and listings, and schema creation, stay on SQLAlchemy Core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy import Column, Connection, Float, Integer, String, Table, bindparam, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine


@dataclass(frozen=True, slots=True)
class Compiled:
    """One dialect's SQL, its parameters in the order the driver takes them (with the conversion of any
    value the dialect converts before sending), whether they go by name, the values compiled into it, and
    the names of the columns it returns."""

    sql: str
    params: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    named: bool
    fixed: dict[str, Any]
    columns: tuple[str, ...]

    def arguments(self, given: dict[str, Any]) -> Any:
        """What the driver takes: a tuple in the compiled order, or a dict for named parameters."""
        values = {**self.fixed, **given} if self.fixed else given
        if self.named:
            return {name: values[name] if c is None else c(values[name]) for name, c in self.params}
        return tuple([values[name] if c is None else c(values[name]) for name, c in self.params])


class Statement:
    """A statement built by ``build(dialect_module)``, compiled the first time each dialect runs it."""

    def __init__(self, build: Callable[[ModuleType], ClauseElement]) -> None:
        self.build = build
        self._compiled: dict[str, Compiled] = {}
        self._lock = threading.Lock()

    def first(self, conn: Connection, **params: Any) -> dict[str, Any] | None:
        """The first row the statement returns, by column name; None when it returns none."""
        rows = self.rows(conn, **params)
        return dict(zip(self.columns(conn.dialect), rows[0], strict=True)) if rows else None

    def rows(self, conn: Connection, **params: Any) -> list[tuple[Any, ...]]:
        """Every row the statement returns, as tuples (see :meth:`columns`); [] for a statement that
        returns none."""
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        if not conn.in_transaction():
            conn.begin()  # what Core's autobegin does before a first statement
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        arguments = compiled.arguments(params)
        try:
            cursor.execute(compiled.sql, arguments)
            # every row, which also finishes the statement: a SQLite statement left stepping would keep
            # a savepoint from being released
            rows: list[tuple[Any, ...]] = list(cursor.fetchall()) if cursor.description is not None else []
        except conn.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                compiled.sql, arguments, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from error
        finally:
            cursor.close()
        return rows

    def columns(self, dialect: Dialect) -> tuple[str, ...]:
        """The names of the columns the statement returns."""
        return (self._compiled.get(dialect.name) or self._compile(dialect)).columns

    def _compile(self, dialect: Dialect) -> Compiled:
        with self._lock:
            found = self._compiled.get(dialect.name)
            if found is None:
                found = self._compiled[dialect.name] = compile_for(self.build, dialect)
            return found


def compile_for(build: Callable[[ModuleType], ClauseElement], dialect: Dialect) -> Compiled:
    """``build``'s statement compiled for ``dialect``; ValueError when the driver could not run it as it is
    (parameters expanded at execution, a result column the driver would not give as Python wants it)."""
    module = postgresql if dialect.name == "postgresql" else sqlite
    statement = build(module)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if "__[POSTCOMPILE" in compiled.string:
        raise ValueError(f"statement expands parameters at execution: {compiled.string}")
    columns = []
    for column in getattr(statement, "exported_columns", ()):
        if not _as_returned(column.type):
            raise ValueError(f"column {column.key!r} ({column.type}) needs converting on {dialect.name}")
        columns.append(column.key)
    convert = {}
    for bind, name in compiled.bind_names.items():
        convert[name] = bind.type.dialect_impl(dialect).bind_processor(dialect)
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.params)
    required = {name for bind, name in compiled.bind_names.items() if bind.required}
    fixed = {name: value for name, value in compiled.params.items() if name not in required}
    return Compiled(
        compiled.string,
        tuple((name, convert.get(name)) for name in names),
        not compiled.positional,
        fixed,
        tuple(columns),
    )


def _as_returned(kind: TypeEngine[Any]) -> bool:
    """Whether both drivers give a column of this type as the Python value SQLAlchemy would (str, int, float),
    so that it needs no result processing."""
    return isinstance(kind, String | Integer) or (isinstance(kind, Float) and not kind.asdecimal)


def insert_once(table: Table, returning: Column[Any], *, skip: tuple[str, ...] = ()) -> Statement:
    """Insert a row of ``table`` (a parameter per column, but those in ``skip``) unless its key is taken;
    ``first`` returns ``returning`` for a row inserted, None when the key was there already."""
    return Statement(
        lambda d: (
            d.insert(table)
            .values({c.key: bindparam(c.key) for c in table.c if c.key not in skip})
            .on_conflict_do_nothing()
            .returning(returning)
        )
    )
