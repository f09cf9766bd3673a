"""The batch's PostgreSQL binary arrays read back as what was packed, NULLs and all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stepdance.store.sql.arrays import FLOAT8, INT4, INT8, TEXT, Kind, pack, register
from tests.store.backends import POSTGRES, postgres_reachable

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def conn() -> Iterator[Any]:
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        register(connection)
        yield connection


@pytest.mark.parametrize(
    ("values", "kind", "cast"),
    [
        (["a", "é ☃", "", '{"k":"v\\n"}', "x" * 5000], TEXT, "text[]"),
        (["a", None, "b"], TEXT, "varchar[]"),
        ([None, None], TEXT, "text[]"),
        ([1, -2, 2**31 - 1], INT4, "int[]"),
        ([None, 7], INT4, "int[]"),
        ([2**40, -(2**62)], INT8, "bigint[]"),
        ([1.5, 2, 1e300, -0.1], FLOAT8, "float8[]"),
        ([None, 3.25], FLOAT8, "float8[]"),
        ([], TEXT, "text[]"),
    ],
)
def test_a_packed_array_reads_back_as_its_values(conn: Any, values: list[Any], kind: Kind, cast: str) -> None:
    (got,) = conn.execute(f"SELECT %s::{cast}", [pack(values, kind)]).fetchone()
    expected = [float(v) if kind is FLOAT8 and v is not None else v for v in values]
    assert got == expected


def test_packed_columns_unnest_into_rows(conn: Any) -> None:
    columns = [pack(["a", "b"], TEXT), pack([1, None], INT4), pack([None, 0.5], FLOAT8)]
    rows = conn.execute("SELECT * FROM unnest(%s::text[], %s::int[], %s::float8[])", columns).fetchall()
    assert rows == [("a", 1, None), ("b", None, 0.5)]
