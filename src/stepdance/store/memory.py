"""A store in process memory: the same behaviour as the SQL stores, no durability.

For tests and the in-memory benchmark. One lock serialises every operation, which is what a transaction
gives the SQL stores. Documents are kept as JSON text so that callers never share mutable state with it.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from stepdance.store import tokens
from stepdance.store.base import SignalFor, Store
from stepdance.store.errors import (
    ActivityAlreadyExists,
    ActivityDoesNotExist,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StoreError,
    TaskClosed,
    TaskDoesNotExist,
)
from stepdance.store.plan import Key, Plan, dumps, make_plan
from stepdance.store.records import (
    ANSWERABLE,
    OPEN_TASK,
    REDRIVABLE,
    RUNNING,
    ActivityRecord,
    Change,
    ExecutionRecord,
    Page,
    SignalRecord,
    StateMachineRecord,
    TaskRecord,
    TimerRecord,
    as_row,
)

T = TypeVar("T")


class MemoryStore(Store):
    blocking = False  # every call is a few dictionary operations under a lock

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._machines: dict[str, StateMachineRecord] = {}
        self._revisions: dict[Key, StateMachineRecord] = {}
        self._activities: dict[str, ActivityRecord] = {}
        self._executions: dict[str, ExecutionRecord] = {}
        self._snapshots: dict[str, str] = {}
        self._history: dict[str, list[str]] = {}
        self._timers: dict[Key, float] = {}
        self._tasks: dict[Key, TaskRecord] = {}
        self._tokens: dict[str, Key] = {}
        self._signals: dict[int, SignalRecord] = {}
        self._signal_ids = itertools.count(1)

    # ------------------------------------------------------------------ catalog

    def create_state_machine(self, record: StateMachineRecord) -> None:
        with self._lock:
            if record.arn in self._machines:
                raise StateMachineAlreadyExists(record.arn)
            self._machines[record.arn] = replace(record)
            self._revisions[(record.arn, record.revision_id)] = replace(record)

    def get_state_machine(self, arn: str) -> StateMachineRecord:
        with self._lock:
            if arn not in self._machines:
                raise StateMachineDoesNotExist(arn)
            return replace(self._machines[arn])

    def get_revision(self, arn: str, revision_id: str) -> StateMachineRecord:
        with self._lock:
            if (arn, revision_id) not in self._revisions:
                raise StateMachineDoesNotExist(arn)
            return replace(self._revisions[(arn, revision_id)])

    def update_state_machine(
        self, arn: str, *, definition: str, role_arn: str, revision_id: str, update_date: float
    ) -> StateMachineRecord:
        with self._lock:
            old = self.get_state_machine(arn)
            new = replace(
                old,
                definition=definition,
                role_arn=role_arn,
                revision_id=revision_id,
                update_date=update_date,
            )
            self._machines[arn] = new
            self._revisions[(arn, revision_id)] = replace(new)
            return replace(new)

    def delete_state_machine(self, arn: str) -> None:
        with self._lock:
            self._machines.pop(arn, None)

    def list_state_machines(self, limit: int, token: str | None = None) -> Page[StateMachineRecord]:
        with self._lock:
            return _page("sm", self._machines, limit, token)

    def create_activity(self, record: ActivityRecord) -> None:
        with self._lock:
            if record.arn in self._activities:
                raise ActivityAlreadyExists(record.arn)
            self._activities[record.arn] = replace(record)

    def get_activity(self, arn: str) -> ActivityRecord:
        with self._lock:
            if arn not in self._activities:
                raise ActivityDoesNotExist(arn)
            return replace(self._activities[arn])

    def delete_activity(self, arn: str) -> None:
        with self._lock:
            self._activities.pop(arn, None)

    def list_activities(self, limit: int, token: str | None = None) -> Page[ActivityRecord]:
        with self._lock:
            return _page("act", self._activities, limit, token)

    # ------------------------------------------------------------------ executions

    def commit(self, changes: Sequence[Change]) -> list[StoreError | None]:
        with self._lock:
            arns = {c.execution_arn for c in changes}
            current = {
                a: (self._executions[a].version, self._executions[a].owner)
                for a in arns & set(self._executions)
            }
            plan = make_plan(changes, current)
            self._write(plan)
            return plan.results

    def _write(self, plan: Plan) -> None:
        for arn, (record, snapshot) in plan.inserts.items():
            self._executions[arn] = replace(record)
            self._snapshots[arn] = snapshot or "null"
            self._history[arn] = []
        for arn, row in plan.updates.items():
            _update(self._executions[arn], as_row(row))
            if row.snapshot is not None:
                self._snapshots[arn] = row.snapshot
        for arn, _event_id, text in plan.events:
            self._history[arn].append(text)
        self._write_work(plan)

    def _write_work(self, plan: Plan) -> None:
        for key in plan.timers_deleted:
            self._timers.pop(key, None)
        self._timers.update(plan.timers_set)
        for key, task in plan.tasks_inserted.items():
            self._tasks[key] = replace(task)
            if task.token:
                self._tokens[task.token] = key
        for key, status in plan.task_status.items():
            if key in self._tasks:
                self._tasks[key].status = status
        for key in plan.tasks_deleted:
            self._drop_task(key)
        for signal_id in plan.signals_consumed:
            self._signals.pop(signal_id, None)
        for arn in plan.finished:
            self._finish(arn)

    def _finish(self, arn: str) -> None:
        for key in [k for k in self._timers if k[0] == arn]:
            del self._timers[key]
        for key, task in list(self._tasks.items()):
            if key[0] == arn:
                if task.token:
                    task.status = "CLOSED"
                else:
                    self._drop_task(key)
        for signal_id in [i for i, s in self._signals.items() if s.execution_arn == arn]:
            del self._signals[signal_id]

    def _drop_task(self, key: Key) -> None:
        task = self._tasks.pop(key, None)
        if task is not None and task.token:
            self._tokens.pop(task.token, None)

    def get_execution(self, arn: str) -> ExecutionRecord:
        with self._lock:
            if arn not in self._executions:
                raise ExecutionDoesNotExist(arn)
            return replace(self._executions[arn], snapshot=json.loads(self._snapshots[arn]))

    def list_executions(
        self, state_machine_arn: str, status: str | None, limit: int, token: str | None = None
    ) -> Page[ExecutionRecord]:
        with self._lock:
            rows = [
                e
                for e in self._executions.values()
                if e.state_machine_arn == state_machine_arn and (status is None or e.status == status)
            ]
        rows.sort(key=lambda e: (e.start_date, e.arn), reverse=True)
        if token is not None:
            start_date, arn = tokens.decode(token, "ex", 2)
            rows = [e for e in rows if (e.start_date, e.arn) < (start_date, arn)]
        items = [replace(e, snapshot=None) for e in rows[:limit]]
        more = len(rows) > limit
        return Page(items, tokens.encode("ex", items[-1].start_date, items[-1].arn) if more else None)

    def get_history(
        self, arn: str, limit: int, token: str | None = None, *, reverse: bool = False
    ) -> Page[dict[str, Any]]:
        with self._lock:
            if arn not in self._history:
                raise ExecutionDoesNotExist(arn)
            texts = list(self._history[arn])
        events = [json.loads(t) for t in texts]
        if reverse:
            events.reverse()
        if token is not None:
            (after,) = tokens.decode(token, "ev", 1)
            events = [e for e in events if (e["id"] < after if reverse else e["id"] > after)]
        items = events[:limit]
        more = len(events) > limit
        return Page(items, tokens.encode("ev", items[-1]["id"]) if more else None)

    def redrive_execution(
        self, arn: str, *, owner: str | None, lease_until: float, now: float, signal: dict[str, Any]
    ) -> ExecutionRecord:
        with self._lock:
            record = self.get_execution(arn)
            if record.status not in REDRIVABLE:
                raise ExecutionNotRedrivable(arn)
            row = self._executions[arn]
            row.status, row.output, row.error, row.cause, row.stop_date = RUNNING, None, None, None, None
            row.redrive_count += 1
            row.redrive_date, row.owner, row.lease_until = now, owner, lease_until
            row.version += 1
            self._add_signal(arn, signal, now)
            return self.get_execution(arn)

    # ------------------------------------------------------------------ signals

    def add_signal(self, execution_arn: str, body: dict[str, Any], now: float) -> int:
        with self._lock:
            if execution_arn not in self._executions:
                raise ExecutionDoesNotExist(execution_arn)
            return self._add_signal(execution_arn, body, now)

    def _add_signal(self, execution_arn: str, body: dict[str, Any], now: float) -> int:
        signal_id = next(self._signal_ids)
        self._signals[signal_id] = SignalRecord(signal_id, execution_arn, json.loads(dumps(body)), now)
        return signal_id

    def fetch_signals(self, owner: str, limit: int) -> list[SignalRecord]:
        with self._lock:
            found = [
                replace(s)
                for s in self._signals.values()
                if (e := self._executions.get(s.execution_arn)) and e.owner == owner and e.status == RUNNING
            ]
        return sorted(found, key=lambda s: s.id)[:limit]

    # ------------------------------------------------------------------ timers and tasks

    def timers(self, execution_arns: Sequence[str]) -> list[TimerRecord]:
        wanted = set(execution_arns)
        with self._lock:
            return [TimerRecord(a, t, due) for (a, t), due in self._timers.items() if a in wanted]

    def due_timers(self, before: float, limit: int) -> list[TimerRecord]:
        with self._lock:
            due = sorted((d, a, t) for (a, t), d in self._timers.items() if d < before)
        return [TimerRecord(a, t, d) for d, a, t in due[:limit]]

    def open_tasks(self, execution_arns: Sequence[str]) -> list[TaskRecord]:
        wanted = set(execution_arns)
        with self._lock:
            return [replace(t) for (a, _), t in self._tasks.items() if a in wanted and t.status in OPEN_TASK]

    def get_task(self, token: str) -> TaskRecord:
        with self._lock:
            if token not in self._tokens:
                raise TaskDoesNotExist(token)
            return replace(self._tasks[self._tokens[token]])

    def claim_activity_task(
        self, activity_arn: str, worker: str, now: float, started: SignalFor
    ) -> TaskRecord | None:
        with self._lock:
            waiting = [
                t
                for t in self._tasks.values()
                if t.kind == "activity" and t.resource == activity_arn and t.status == "SCHEDULED"
            ]
            if not waiting:
                return None
            task = min(waiting, key=lambda t: t.created)
            task.status, task.worker = "STARTED", worker
            self._add_signal(task.execution_arn, started(task), now)
            return replace(task)

    def signal_task(self, token: str, now: float, signal: SignalFor, *, close: bool) -> TaskRecord:
        with self._lock:
            task = self._tasks[self._tokens[token]] if token in self._tokens else None
            if task is None:
                raise TaskDoesNotExist(token)
            if task.status not in ANSWERABLE:
                raise TaskClosed(token)
            self._add_signal(task.execution_arn, signal(task), now)
            if close:
                task.status = "ANSWERED"
            return replace(task)

    # ------------------------------------------------------------------ leases

    def claim_executions(
        self, owner: str, now: float, lease_until: float, limit: int
    ) -> list[ExecutionRecord]:
        with self._lock:
            expired = [e for e in self._executions.values() if e.status == RUNNING and e.lease_until < now]
            expired.sort(key=lambda e: e.lease_until)
            for row in expired[:limit]:
                row.owner, row.lease_until, row.version = owner, lease_until, row.version + 1
            return [self.get_execution(e.arn) for e in expired[:limit]]

    def renew_leases(self, owner: str, lease_until: float) -> int:
        with self._lock:
            return _set_lease(self._mine(owner), owner, lease_until)

    def release_leases(self, owner: str, execution_arns: Sequence[str] | None = None) -> int:
        with self._lock:
            mine = self._mine(owner)
            if execution_arns is not None:
                wanted = set(execution_arns)
                mine = [e for e in mine if e.arn in wanted]
            return _set_lease(mine, None, 0.0)

    def _mine(self, owner: str) -> list[ExecutionRecord]:
        return [e for e in self._executions.values() if e.owner == owner and e.status == RUNNING]


def _set_lease(rows: Iterable[ExecutionRecord], owner: str | None, lease_until: float) -> int:
    count = 0
    for row in rows:
        row.owner, row.lease_until = owner, lease_until
        count += 1
    return count


def _update(record: ExecutionRecord, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if value is not None and name != "snapshot":
            setattr(record, name, value)


def _page(kind: str, rows: dict[str, T], limit: int, token: str | None) -> Page[T]:
    arns = sorted(rows)
    if token is not None:
        (after,) = tokens.decode(token, kind, 1)
        arns = [a for a in arns if a > after]
    chosen = arns[:limit]
    items = [copy.copy(rows[a]) for a in chosen]
    return Page(items, tokens.encode(kind, chosen[-1]) if len(arns) > limit else None)
