"""The tables, in SQLAlchemy Core, shared by SQLite and PostgreSQL.

History is kept as the steps that wrote it: one row per committed change, its events as one JSON array
(a quarter of the rows and of the write-ahead log of one row per event, measured on the saga: commits
28% faster on SQLite, 17% on PostgreSQL), keyed by the last event id so that pages are found by index.

Indexes follow the queries: executions are listed newest first per state machine (and status) by keyset;
leases are scanned only among RUNNING executions (partial indexes); activity tasks are polled per activity
among SCHEDULED ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

RUNNING_ONLY = text("status = 'RUNNING'")
# Only activity tasks are polled, and only callback/activity tasks carry a token: handler tasks (most of
# them, written and deleted one commit apart) stay out of both indexes.
ACTIVITY_WAITING = text("status = 'SCHEDULED' AND kind = 'activity'")
HAS_TOKEN = text("token IS NOT NULL")


@dataclass(frozen=True, slots=True)
class Tables:
    metadata: MetaData
    machines: Table
    revisions: Table
    activities: Table
    executions: Table
    history: Table
    timers: Table
    tasks: Table
    signals: Table


def build(schema: str | None = None, prefix: str = "") -> Tables:
    """The tables in ``schema`` (PostgreSQL) with names starting with ``prefix``."""
    md = MetaData(schema=schema)
    p = prefix
    executions = _executions(md, p)
    return Tables(
        metadata=md,
        machines=Table(
            f"{p}state_machines",
            md,
            Column("arn", String, primary_key=True),
            Column("name", String, nullable=False),
            Column("definition", Text, nullable=False),
            Column("role_arn", String, nullable=False),
            Column("type", String, nullable=False),
            Column("creation_date", Float, nullable=False),
            Column("update_date", Float),
            Column("revision_id", String, nullable=False),
        ),
        revisions=Table(
            f"{p}revisions",
            md,
            Column("arn", String, primary_key=True),
            Column("revision_id", String, primary_key=True),
            Column("name", String, nullable=False),
            Column("definition", Text, nullable=False),
            Column("role_arn", String, nullable=False),
            Column("type", String, nullable=False),
            Column("creation_date", Float, nullable=False),
            Column("update_date", Float),
        ),
        activities=Table(
            f"{p}activities",
            md,
            Column("arn", String, primary_key=True),
            Column("name", String, nullable=False),
            Column("creation_date", Float, nullable=False),
        ),
        executions=executions,
        history=Table(
            f"{p}history_steps",
            md,
            Column("execution_arn", String, primary_key=True),
            Column("last_event_id", Integer, primary_key=True, autoincrement=False),
            Column("first_event_id", Integer, nullable=False),
            Column("events", Text, nullable=False),  # a JSON array
        ),
        timers=Table(
            f"{p}timers",
            md,
            Column("execution_arn", String, primary_key=True),
            Column("timer_id", String, primary_key=True),
            Column("due", Float, nullable=False),
            Index(f"{p}ix_timers_due", "due"),
        ),
        tasks=_tasks(md, p),
        signals=Table(
            f"{p}signals",
            md,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
            Column("execution_arn", String, nullable=False),
            Column("body", Text, nullable=False),
            Column("created", Float, nullable=False),
            Index(f"{p}ix_signals_execution", "execution_arn"),
        ),
    )


def _executions(md: MetaData, p: str) -> Table:
    return Table(
        f"{p}executions",
        md,
        Column("arn", String, primary_key=True),
        Column("state_machine_arn", String, nullable=False),
        Column("name", String, nullable=False),
        Column("revision_id", String, nullable=False),
        Column("status", String, nullable=False),
        Column("input", Text, nullable=False),
        Column("output", Text),
        Column("error", Text),
        Column("cause", Text),
        Column("start_date", Float, nullable=False),
        Column("stop_date", Float),
        Column("redrive_count", Integer, nullable=False, default=0),
        Column("redrive_date", Float),
        Column("snapshot", Text),
        Column("owner", String),
        Column("lease_until", Float, nullable=False, default=0.0),
        Column("version", Integer, nullable=False),
        Column("last_event_id", Integer, nullable=False, default=0),
        Index(f"{p}ix_executions_newest", "state_machine_arn", "start_date", "arn"),
        Index(f"{p}ix_executions_status_newest", "state_machine_arn", "status", "start_date", "arn"),
        Index(
            f"{p}ix_executions_lease",
            "lease_until",
            sqlite_where=RUNNING_ONLY,
            postgresql_where=RUNNING_ONLY,
        ),
        Index(f"{p}ix_executions_owner", "owner", sqlite_where=RUNNING_ONLY, postgresql_where=RUNNING_ONLY),
    )


def _tasks(md: MetaData, p: str) -> Table:
    return Table(
        f"{p}tasks",
        md,
        Column("execution_arn", String, primary_key=True),
        Column("task_id", String, primary_key=True),
        Column("kind", String, nullable=False),
        Column("resource", String, nullable=False),
        Column("input", Text, nullable=False),
        Column("created", Float, nullable=False),
        Column("status", String, nullable=False),
        Column("token", String),
        Column("state_name", String, nullable=False),
        Column("timeout_seconds", Float),
        Column("heartbeat_seconds", Float),
        Column("worker", String),
        Index(f"{p}ix_tasks_token", "token", unique=True, sqlite_where=HAS_TOKEN, postgresql_where=HAS_TOKEN),
        Index(
            f"{p}ix_tasks_poll",
            "resource",
            "created",
            sqlite_where=ACTIVITY_WAITING,
            postgresql_where=ACTIVITY_WAITING,
        ),
    )
