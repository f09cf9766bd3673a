from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    exc,
    select,
    update,
)

from stepdance.order.db import begun, create_tables
from stepdance.order.statements import Statement
from tests.order.conftest import Backend

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("units", Integer, nullable=False),
    Column("kind", String(16)),
    Column("seen", DateTime(timezone=True)),
    Column("price", Numeric(10, 2)),
    CheckConstraint("units >= 0", name="things_not_negative"),
)

add_once = Statement(
    lambda d: (
        d.insert(things)
        .values(name=bindparam("name"), units=bindparam("units"), kind="fixed")
        .on_conflict_do_nothing()
        .returning(things.c.name, things.c.kind)
    )
)
take = Statement(
    lambda _: (
        update(things)
        .where(things.c.name == bindparam("the_name"))
        .values(units=things.c.units - bindparam("wanted"))
        .returning(things.c.units)
    )
)
see = Statement(
    lambda _: update(things).where(things.c.name == bindparam("the_name")).values(seen=bindparam("at"))
)
units_of = Statement(lambda _: select(things.c.units).where(things.c.name == bindparam("the_name")))


def scratch(backend: Backend) -> Engine:
    engine = backend.db("scratch")
    create_tables(engine, metadata)
    return engine


def test_a_statement_returns_its_first_row_by_column_or_none(backend: Backend) -> None:
    engine = scratch(backend)
    with engine.begin() as tx:
        assert add_once.first(tx, name="a", units=3) == {"name": "a", "kind": "fixed"}  # a value compiled in
        assert add_once.first(tx, name="a", units=5) is None  # the key was taken: nothing returned
        assert take.rows(tx, the_name="a", wanted=1) == [(2,)]
        assert take.first(tx, the_name="nothing", wanted=1) is None
        assert see.rows(tx, the_name="a", at=datetime.now(UTC)) == []  # returns no rows
    with engine.connect() as conn:
        assert conn.execute(select(things.c.units)).scalars().all() == [2]


def test_a_connection_without_a_transaction_is_begun_and_its_rollback_undoes_the_statement(
    backend: Backend,
) -> None:
    engine = scratch(backend)
    with engine.connect() as conn:
        assert not conn.in_transaction()
        add_once.first(conn, name="a", units=1)
        assert conn.in_transaction()
        conn.rollback()
    with begun(engine, None) as tx:
        assert units_of.first(tx, the_name="a") is None


def test_driver_errors_are_sqlalchemys_and_leave_the_transaction_usable(backend: Backend) -> None:
    engine = scratch(backend)
    with engine.begin() as tx:
        add_once.first(tx, name="a", units=1)
        savepoint = tx.begin_nested()
        with pytest.raises(exc.IntegrityError, match=r"things_not_negative|CHECK"):
            take.first(tx, the_name="a", wanted=2)  # below zero
        savepoint.rollback()
        assert units_of.first(tx, the_name="a") == {"units": 1}


def test_parameters_go_through_the_dialects_conversions(backend: Backend) -> None:
    engine = scratch(backend)
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as tx:
        add_once.first(tx, name="a", units=1)
        see.rows(tx, the_name="a", at=at)  # SQLite stores a datetime as SQLAlchemy's string
    with engine.connect() as conn:
        seen = conn.execute(select(things.c.seen)).scalar_one()
    assert (seen if seen.tzinfo else seen.replace(tzinfo=UTC)) == at  # SQLite's string has no zone


@pytest.mark.parametrize("column", ["seen", "price"])
def test_a_column_the_driver_would_return_unconverted_is_refused(backend: Backend, column: str) -> None:
    engine = scratch(backend)
    reading = Statement(lambda _: select(things.c[column]))
    with engine.connect() as conn, pytest.raises(ValueError, match=f"column '{column}'"):
        reading.rows(conn)


def test_a_missing_parameter_is_an_error_not_a_null(backend: Backend) -> None:
    engine = scratch(backend)
    with engine.begin() as tx, pytest.raises(KeyError, match="units"):
        add_once.first(tx, name="a")
