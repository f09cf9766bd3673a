"""Many rows in few statements: how each backend writes a batch's rows.

SQLite runs in-process, so ``executemany`` costs no round trips. PostgreSQL pays one round trip per row
with ``executemany`` (measured: ~0.1 ms each, the bulk of a batch's time), so there every operation is a
single statement over ``unnest`` of one array per column, whatever the number of rows.

The statements are built with SQLAlchemy Core, compiled once per table and column list, and run on the
driver's cursor: SQLAlchemy's execution layer (contexts, parameter processing, results) was a third of a
commit's CPU (measured), and these rows need none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Float, Table, and_, bindparam, func, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

Row = tuple[Any, ...]


class Batch:
    """The statements of one dialect, built once per table and column list."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.pg = dialect.name == "postgresql"
        self._cache: dict[tuple[Any, ...], tuple[str, Any, frozenset[int]]] = {}

    def insert(self, cursor: Any, table: Table, columns: Sequence[str], rows: list[Row]) -> None:
        if rows:
            self._run(cursor, ("insert", table, tuple(columns)), rows)

    def upsert(
        self, cursor: Any, table: Table, key: Sequence[str], columns: Sequence[str], rows: list[Row]
    ) -> None:
        """Insert, or update the non-key ``columns`` of the row with the same ``key``."""
        if rows:
            self._run(cursor, ("upsert", table, tuple(columns), tuple(key)), rows)

    def update(
        self,
        cursor: Any,
        table: Table,
        key: Sequence[str],
        columns: Sequence[str],
        rows: list[Row],
        keep: frozenset[str] = frozenset(),
    ) -> None:
        """Set ``columns`` of the rows whose ``key`` columns hold a row's first values; a None in a
        ``keep`` column leaves that column as it is."""
        if rows:
            self._run(cursor, ("update", table, tuple(key), tuple(columns), keep), rows)

    def delete(self, cursor: Any, table: Table, key: Sequence[str], rows: list[Row]) -> None:
        if rows:
            self._run(cursor, ("delete", table, tuple(key)), rows)

    def _run(self, cursor: Any, spec: tuple[Any, ...], rows: list[Row]) -> None:
        compiled = self._cache.get(spec)
        if compiled is None:
            compiled = self._cache[spec] = self._compile(spec)
        sql, order, floats = compiled
        if self.pg:
            # One array per column; a binary array holds one type, so float columns get floats only.
            arrays = {
                f"c{i}": [None if v is None else float(v) for v in values] if i in floats else list(values)
                for i, values in enumerate(zip(*rows, strict=True))
            }
            cursor.execute(sql, arrays)
        elif order is None:
            cursor.executemany(sql, rows)
        else:
            cursor.executemany(sql, map(order, rows))

    def _compile(self, spec: tuple[Any, ...]) -> tuple[str, Any, frozenset[int]]:
        """Driver SQL, what puts a row's values in the order of the positional parameters (None: the
        row's own order), and which positions hold floats."""
        statement, floats = self._build(spec)
        compiled = statement.compile(dialect=self.dialect)
        order = tuple(int(name[1:]) for name in compiled.positiontup or ())
        if order == tuple(range(len(order))):
            return str(compiled), None, floats
        return str(compiled), itemgetter(*order), floats  # two or more: a tuple

    def _build(self, spec: tuple[Any, ...]) -> tuple[Any, frozenset[int]]:
        """The statement, and which of its row positions hold floats."""
        kind, table = spec[0], spec[1]
        columns = (*spec[2], *spec[3]) if kind == "update" else spec[2]
        floats = frozenset(i for i, c in enumerate(columns) if isinstance(table.c[c].type, Float))
        if kind == "insert":
            return self._insert(table, spec[2]), floats
        if kind == "upsert":
            statement = self._insert(table, spec[2])
            rest = {c: statement.excluded[c] for c in spec[2] if c not in spec[3]}
            return statement.on_conflict_do_update(index_elements=list(spec[3]), set_=rest), floats
        if kind == "update":
            return self._update(table, spec[2], spec[3], spec[4]), floats
        return self._delete(table, spec[2]), floats

    def _source(self, table: Table, columns: Sequence[str]) -> Any:
        """Per column, what a row's value is: a bind (SQLite) or a column of the unnested arrays (PG)."""
        if not self.pg:
            return [bindparam(f"c{i}", type_=table.c[c].type) for i, c in enumerate(columns)]
        arrays = [bindparam(f"c{i}", type_=postgresql.ARRAY(table.c[c].type)) for i, c in enumerate(columns)]
        rows = func.unnest(*arrays).table_valued(*columns).render_derived(name="v")
        return [rows.c[c] for c in columns]

    def _insert(self, table: Table, columns: Sequence[str]) -> Any:
        values = self._source(table, columns)
        if self.pg:
            return postgresql.insert(table).from_select(list(columns), select(*values))
        return sqlite.insert(table).values(dict(zip(columns, values, strict=True)))

    def _update(self, table: Table, key: Sequence[str], columns: Sequence[str], keep: frozenset[str]) -> Any:
        source = self._source(table, (*key, *columns))
        keys, new = source[: len(key)], source[len(key) :]
        values = {
            c: func.coalesce(v, table.c[c]) if c in keep else v for c, v in zip(columns, new, strict=True)
        }
        match = and_(*(table.c[c] == v for c, v in zip(key, keys, strict=True)))
        return update(table).where(match).values(values)

    def _delete(self, table: Table, key: Sequence[str]) -> Any:
        source = self._source(table, key)
        return sql_delete(table).where(and_(*(table.c[c] == v for c, v in zip(key, source, strict=True))))
