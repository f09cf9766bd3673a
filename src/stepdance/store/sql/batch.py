"""Many rows in few statements: how each backend writes a batch's rows.

:class:`Writes` collects a transaction's row operations (insert, upsert, update, delete: each many rows of
one table); :meth:`Writes.run` sends them. SQLite runs in-process, so one ``executemany`` per operation
costs no round trips. On PostgreSQL each operation is a single statement over ``unnest`` of one array per
column, whatever the number of rows, and all the operations go out as one statement (data-modifying
``WITH`` clauses): each statement costs a parse/bind/execute on both sides (measured: ~60 us of client
time each), and a batch's operations never touch the same row, which is what ``WITH`` clauses require.

The statements are built with SQLAlchemy Core, compiled once per table and column list, and run on the
driver's cursor: SQLAlchemy's execution layer (contexts, parameter processing, results) was a third of a
commit's CPU (measured), and these rows need none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from stepdance.store.sql import arrays

Row = tuple[Any, ...]
Spec = tuple[Any, ...]  # (kind, table, ...): what identifies a compiled operation


def with_clauses(statements: Sequence[str]) -> str:
    """PostgreSQL: one statement running every one of ``statements`` (which must touch distinct rows)."""
    *first, last = statements
    clauses = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(first))
    return f"WITH {clauses} {last}" if first else last


class Batch:
    """The statements of one dialect, compiled once per operation (shared by every transaction)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.pg = dialect.name == "postgresql"
        self._cache: dict[tuple[Spec, str], tuple[str, Any, tuple[Any, ...]]] = {}
        self._combined: dict[tuple[Spec, ...], str] = {}

    def writes(self) -> Writes:
        return Writes(self)

    def run(self, cursor: Any, operations: list[tuple[Spec, list[Row]]]) -> None:
        if not operations:
            return
        if not self.pg:
            for spec, rows in operations:
                sql, order, _ = self._compiled(spec, "")
                cursor.executemany(sql, rows if order is None else map(order, rows))
            return
        key = tuple(spec for spec, _ in operations)
        if key not in self._combined:
            self._combined[key] = with_clauses(
                [self._compiled(spec, f"p{i}_")[0] for i, spec in enumerate(key)]
            )
        params: dict[str, Any] = {}
        for i, (spec, rows) in enumerate(operations):
            kinds = self._compiled(spec, f"p{i}_")[2]
            for j, values in enumerate(zip(*rows, strict=True)):
                params[f"p{i}_c{j}"] = arrays.pack(list(values), kinds[j])
        cursor.execute(self._combined[key], params)

    def _compiled(self, spec: Spec, prefix: str) -> tuple[str, Any, tuple[Any, ...]]:
        """Driver SQL with parameters named ``{prefix}c{i}``, what puts a row's values in the order of the
        positional parameters (None: the row's own order), and the array element kind of each row
        position (PostgreSQL)."""
        key = (spec, prefix)
        if key not in self._cache:
            statement, kinds = self._build(spec, prefix)
            compiled = statement.compile(dialect=self.dialect)
            order = tuple(int(name.rsplit("c", 1)[1]) for name in compiled.positiontup or ())
            reorder = None if order == tuple(range(len(order))) else itemgetter(*order)  # 2+: tuples
            self._cache[key] = (str(compiled), reorder, kinds)
        return self._cache[key]

    def _build(self, spec: Spec, prefix: str) -> tuple[Any, tuple[Any, ...]]:
        """The statement, and the array element kind of each of its row positions."""
        kind, table = spec[0], spec[1]
        columns = (*spec[2], *spec[3]) if kind == "update" else spec[2]
        kinds = tuple(arrays.element_kind(table.c[c].type) for c in columns)
        if kind == "insert":
            return self._insert(table, spec[2], prefix), kinds
        if kind == "upsert":
            statement = self._insert(table, spec[2], prefix)
            rest = {c: statement.excluded[c] for c in spec[2] if c not in spec[3]}
            return statement.on_conflict_do_update(index_elements=list(spec[3]), set_=rest), kinds
        if kind == "update":
            return self._update(table, spec[2], spec[3], spec[4], prefix), kinds
        return self._delete(table, spec[2], prefix), kinds

    def _source(self, table: Table, columns: Sequence[str], prefix: str) -> Any:
        """Per column, what a row's value is: a bind (SQLite) or a column of the unnested arrays (PG)."""
        if not self.pg:
            return [bindparam(f"{prefix}c{i}", type_=table.c[c].type) for i, c in enumerate(columns)]
        arrays = [
            bindparam(f"{prefix}c{i}", type_=postgresql.ARRAY(table.c[c].type)) for i, c in enumerate(columns)
        ]
        rows = func.unnest(*arrays).table_valued(*columns).render_derived(name="v")
        return [rows.c[c] for c in columns]

    def _insert(self, table: Table, columns: Sequence[str], prefix: str) -> Any:
        values = self._source(table, columns, prefix)
        if self.pg:
            return postgresql.insert(table).from_select(list(columns), select(*values))
        return sqlite.insert(table).values(dict(zip(columns, values, strict=True)))

    def _update(
        self, table: Table, key: Sequence[str], columns: Sequence[str], keep: frozenset[str], prefix: str
    ) -> Any:
        source = self._source(table, (*key, *columns), prefix)
        keys, new = source[: len(key)], source[len(key) :]
        values = {
            c: func.coalesce(v, table.c[c]) if c in keep else v for c, v in zip(columns, new, strict=True)
        }
        match = and_(*(table.c[c] == v for c, v in zip(key, keys, strict=True)))
        return update(table).where(match).values(values)

    def _delete(self, table: Table, key: Sequence[str], prefix: str) -> Any:
        source = self._source(table, key, prefix)
        return sql_delete(table).where(and_(*(table.c[c] == v for c, v in zip(key, source, strict=True))))


class Writes:
    """The row operations of one transaction, in order; each on rows no other one touches."""

    def __init__(self, batch: Batch) -> None:
        self._batch = batch
        self._operations: list[tuple[Spec, list[Row]]] = []

    def insert(self, table: Table, columns: Sequence[str], rows: list[Row]) -> None:
        if rows:
            self._operations.append((("insert", table, tuple(columns)), rows))

    def upsert(self, table: Table, key: Sequence[str], columns: Sequence[str], rows: list[Row]) -> None:
        """Insert, or update the non-key ``columns`` of the row with the same ``key``."""
        if rows:
            self._operations.append((("upsert", table, tuple(columns), tuple(key)), rows))

    def update(
        self,
        table: Table,
        key: Sequence[str],
        columns: Sequence[str],
        rows: list[Row],
        keep: frozenset[str] = frozenset(),
    ) -> None:
        """Set ``columns`` of the rows whose ``key`` columns hold a row's first values; a None in a
        ``keep`` column leaves that column as it is."""
        if rows:
            self._operations.append((("update", table, tuple(key), tuple(columns), keep), rows))

    def delete(self, table: Table, key: Sequence[str], rows: list[Row]) -> None:
        if rows:
            self._operations.append((("delete", table, tuple(key)), rows))

    def run(self, cursor: Any) -> None:
        self._batch.run(cursor, self._operations)
