"""Turn a batch of :class:`Change` into the rows to write, checking each change against the current versions.

Pure: every backend reads the current ``(version, owner)`` of the batch's executions inside its transaction,
calls :func:`make_plan`, and writes what the plan says. Several changes to one execution in a batch (a
pipelined actor) merge into one row update, applied in order. A change that fails its check is reported
in ``results`` and writes nothing; the others still commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import orjson

from stepdance.store.errors import (
    ConflictError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    LeaseLost,
    StoreError,
)
from stepdance.store.records import TERMINAL, Change, ExecutionRecord, TaskRecord

Key = tuple[str, str]  # (execution arn, timer id / task id)


def dumps(value: Any) -> str:
    """Compact JSON text. orjson writes the events and snapshots of a batch about six times faster than
    :mod:`json` (measured: a fifth of a commit's CPU); what it refuses (integers past 64 bits) goes
    through :mod:`json`, which reads back the same."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


EXECUTION_COLUMNS = ExecutionRecord.__slots__
TASK_COLUMNS = TaskRecord.__slots__
UPDATED = ("version", "snapshot", "status", "output", "error", "cause", "stop_date", "last_event_id")
_SET_IF_GIVEN = ("status", "output", "error", "cause", "stop_date")
_execution_values = attrgetter(*EXECUTION_COLUMNS)
_task_values = attrgetter(*TASK_COLUMNS)
_updated_values = attrgetter(*UPDATED)
_column = {name: i for i, name in enumerate(EXECUTION_COLUMNS)}


@dataclass(slots=True)
class RowUpdate:
    """New values for an execution row; ``None`` leaves a column as it is (or as created)."""

    version: int
    snapshot: str | None = None
    status: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: float | None = None
    last_event_id: int | None = None


@dataclass(slots=True)
class Plan:
    """What to write. Records from the changes are kept as given, never modified: what a later change of
    the batch alters is kept beside them (``rows``, ``new_task_status``)."""

    results: list[StoreError | None]
    created: dict[str, ExecutionRecord] = field(default_factory=dict)
    rows: dict[str, RowUpdate] = field(default_factory=dict)  # every execution row written
    events: list[tuple[str, int, int, str]] = field(default_factory=list)  # arn, last id, first id, JSON
    timers_set: dict[Key, float] = field(default_factory=dict)
    timers_deleted: set[Key] = field(default_factory=set)
    tasks_inserted: dict[Key, TaskRecord] = field(default_factory=dict)
    new_task_status: dict[Key, str] = field(default_factory=dict)  # of tasks inserted by this batch
    task_status: dict[Key, str] = field(default_factory=dict)
    tasks_deleted: set[Key] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    signals_consumed: list[int] = field(default_factory=list)

    def inserted_executions(self) -> list[tuple[Any, ...]]:
        """Rows of the executions created, in :data:`EXECUTION_COLUMNS` order."""
        rows = []
        for arn, record in self.created.items():
            row, values = self.rows[arn], list(_execution_values(record))
            values[_column["version"]] = row.version
            values[_column["snapshot"]] = row.snapshot
            for name in (*_SET_IF_GIVEN, "last_event_id"):
                value = getattr(row, name)
                if value is not None:
                    values[_column[name]] = value
            rows.append(tuple(values))
        return rows

    def updated_executions(self) -> list[tuple[Any, ...]]:
        """``(arn, *UPDATED)`` of the executions that existed."""
        return [(arn, *_updated_values(row)) for arn, row in self.rows.items() if arn not in self.created]

    def inserted_tasks(self) -> list[tuple[Any, ...]]:
        """Rows of the tasks added, in :data:`TASK_COLUMNS` order."""
        if not self.new_task_status:
            return [_task_values(task) for task in self.tasks_inserted.values()]
        status = TASK_COLUMNS.index("status")
        rows = []
        for key, task in self.tasks_inserted.items():
            values = _task_values(task)
            if key in self.new_task_status:
                values = (*values[:status], self.new_task_status[key], *values[status + 1 :])
            rows.append(values)
        return rows


def assumed(changes: Sequence[Change]) -> dict[str, tuple[int, str | None] | None]:
    """What each execution the batch checks must be for every change to pass: the ``(version, owner)``
    its first versioned change saw, or None (absent) if it is created. A writer that locks and reads
    these rows while it already writes ``make_plan(changes, current=the assumed rows)`` can keep what it
    wrote when the rows match, since the plan is then the same (executions only touched by side
    changes are not checked, so they are left out)."""
    expected: dict[str, tuple[int, str | None] | None] = {}
    for change in changes:
        arn = change.execution_arn
        if arn in expected:
            continue
        if change.create is not None:
            expected[arn] = None
        elif change.version is not None:
            expected[arn] = (change.version, change.owner)
    return expected


def make_plan(changes: Sequence[Change], current: Mapping[str, tuple[int, str | None]]) -> Plan:
    """``current`` maps each existing execution of the batch to its ``(version, owner)``."""
    plan = Plan(results=[])
    seen = dict(current)
    for change in changes:
        error = _check(change, seen)
        plan.results.append(error)
        if error is None:
            _apply(plan, change, seen)
    return plan


def _check(change: Change, seen: dict[str, tuple[int, str | None]]) -> StoreError | None:
    arn = change.execution_arn
    if change.create is not None:
        return ExecutionAlreadyExists(arn) if arn in seen else None
    if change.version is None:
        return None
    if arn not in seen:
        return ExecutionDoesNotExist(arn)
    version, owner = seen[arn]
    if owner != change.owner:
        return LeaseLost(f"{arn} is owned by {owner}, not {change.owner}")
    if version != change.version:
        return ConflictError(f"{arn} is at version {version}, not {change.version}")
    return None


def _apply(plan: Plan, change: Change, seen: dict[str, tuple[int, str | None]]) -> None:
    arn = change.execution_arn
    last_id = None
    if change.events:
        ids = [int(event["id"]) for event in change.events]
        last_id = max(ids)
        plan.events.append((arn, last_id, min(ids), dumps(change.events)))
    if change.create is not None:
        seen[arn] = (1, change.create.owner)
        plan.created[arn] = change.create
        _row(plan, change, 1, last_id)
    elif change.version is not None:
        seen[arn] = (change.version + 1, change.owner)
        _row(plan, change, change.version + 1, last_id)
    _timers(plan, change)
    _tasks(plan, change)
    plan.signals_consumed.extend(change.signals_consumed)
    if change.status in TERMINAL:
        plan.finished.add(arn)


def _row(plan: Plan, change: Change, version: int, last_id: int | None) -> None:
    """Merge the change into its execution's row."""
    row = plan.rows.get(change.execution_arn)
    if row is None:
        row = plan.rows[change.execution_arn] = RowUpdate(version=version)
    row.version = version
    for name in _SET_IF_GIVEN:
        value = getattr(change, name)
        if value is not None:
            setattr(row, name, value)
    snapshot = change.snapshot
    if snapshot is not None:
        row.snapshot = snapshot if isinstance(snapshot, str) else dumps(snapshot)
    if last_id is not None:
        row.last_event_id = last_id


def _timers(plan: Plan, change: Change) -> None:
    for timer in change.timers_set:
        key = (change.execution_arn, timer.timer_id)
        plan.timers_deleted.discard(key)
        plan.timers_set[key] = timer.due
    for timer_id in change.timers_deleted:
        key = (change.execution_arn, timer_id)
        plan.timers_set.pop(key, None)
        plan.timers_deleted.add(key)


def _tasks(plan: Plan, change: Change) -> None:
    arn = change.execution_arn
    for task in change.tasks_added:
        plan.tasks_inserted[(arn, task.task_id)] = task
    for task_id, status in change.task_status.items():
        key = (arn, task_id)
        if key in plan.tasks_inserted:
            plan.new_task_status[key] = status
        elif key not in plan.tasks_deleted:
            plan.task_status[key] = status
    for task_id in change.tasks_deleted:
        key = (arn, task_id)
        plan.task_status.pop(key, None)
        plan.new_task_status.pop(key, None)
        if plan.tasks_inserted.pop(key, None) is None:
            plan.tasks_deleted.add(key)
