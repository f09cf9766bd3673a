"""A store in process memory: the same behaviour as the SQL stores, no durability.

For tests and the in-memory benchmark. One lock serialises every operation, which is what a transaction
gives the SQL stores. Documents are kept as JSON text so that callers never share mutable state with it.
"""

from __future__ import annotations

import copy
import itertools
import json
import marshal
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from stepdance.store import tokens
from stepdance.store.base import SignalFor, Store
from stepdance.store.errors import (
    ActivityAlreadyExists,
    ActivityDoesNotExist,
    ConflictError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    LeaseLost,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StoreError,
    TaskClosed,
    TaskDoesNotExist,
)
from stepdance.store.records import (
    ANSWERABLE,
    OPEN_TASK,
    REDRIVABLE,
    RUNNING,
    TERMINAL,
    ActivityRecord,
    Change,
    ExecutionRecord,
    Page,
    SignalRecord,
    StateMachineRecord,
    TaskRecord,
    TimerRecord,
)

T = TypeVar("T")
Key = tuple[str, str]  # (execution arn, timer id / task id)


class MemoryStore(Store):
    blocking = False  # every call is a few dictionary operations under a lock

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._machines: dict[str, StateMachineRecord] = {}
        self._revisions: dict[Key, StateMachineRecord] = {}
        self._activities: dict[str, ActivityRecord] = {}
        self._executions: dict[str, ExecutionRecord] = {}
        self._snapshots: dict[str, bytes | str] = {}  # marshalled, or the JSON text committed
        self._history: dict[str, _History] = {}
        # The RUNNING executions (in the order they started): what leases are about, without walking all.
        self._running: dict[str, None] = {}
        # Pending work by execution, so that finishing one does not walk everybody's.
        self._timers: dict[str, dict[str, float]] = defaultdict(dict)
        self._tasks: dict[str, dict[str, TaskRecord]] = defaultdict(dict)
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
        # Each change is checked, then applied, one after the other: what make_plan merges for a database
        # is here a few dictionary operations per change, without encoding the events.
        with self._lock:
            return [self._commit(change) for change in changes]

    def _commit(self, change: Change) -> StoreError | None:
        arn = change.execution_arn
        row = self._executions.get(arn)
        if change.create is not None:
            if row is not None:
                return ExecutionAlreadyExists(arn)
            row = self._insert(change.create)
        elif change.version is not None:
            error = _refusal(change, row)
            if error is not None:
                return error
        if row is not None and (change.create is not None or change.version is not None):
            self._update(row, change)
        if change.events:
            self._history[arn].append(change.events)
        self._write_work(change)
        return None

    def _insert(self, record: ExecutionRecord) -> ExecutionRecord:
        row = replace(record, version=0, snapshot=None)
        self._executions[row.arn] = row
        self._snapshots[row.arn] = "null"
        self._history[row.arn] = _History()
        self._running[row.arn] = None
        return row

    def _update(self, row: ExecutionRecord, change: Change) -> None:
        row.version += 1
        for name in ("status", "output", "error", "cause", "stop_date"):
            value = getattr(change, name)
            if value is not None:
                setattr(row, name, value)
        if row.status != RUNNING:
            self._running.pop(row.arn, None)
        if change.events:
            row.last_event_id = int(change.events[-1]["id"]) or row.last_event_id  # ids grow along a change
        snapshot = change.snapshot
        if snapshot is not None and (snapshot or isinstance(snapshot, dict)):
            # A copy (the interpreter goes on changing the dict it handed over), marshalled: five times
            # cheaper than JSON, and reads, which need it as JSON anyway, are rare.
            self._snapshots[row.arn] = snapshot if isinstance(snapshot, str) else marshal.dumps(snapshot, 4)

    def _write_work(self, change: Change) -> None:
        arn = change.execution_arn
        timers, tasks = self._timers[arn], self._tasks[arn]
        for timer in change.timers_set:
            timers[timer.timer_id] = timer.due
        for timer_id in change.timers_deleted:
            timers.pop(timer_id, None)
        for task in change.tasks_added:
            tasks[task.task_id] = replace(task)
            if task.token:
                self._tokens[task.token] = (arn, task.task_id)
        for task_id, status in change.task_status.items():
            if task_id in tasks:
                tasks[task_id].status = status
        for task_id in change.tasks_deleted:
            self._drop_task((arn, task_id))
        for signal_id in change.signals_consumed:
            self._signals.pop(signal_id, None)
        if change.status in TERMINAL:
            self._finish(arn)
        if not timers:
            self._timers.pop(arn, None)
        if not tasks:
            self._tasks.pop(arn, None)

    def _finish(self, arn: str) -> None:
        self._timers.pop(arn, None)
        for task in list(self._tasks.get(arn, {}).values()):
            if task.token:
                task.status = "CLOSED"
            else:
                self._drop_task((arn, task.task_id))
        for signal_id in [i for i, s in self._signals.items() if s.execution_arn == arn]:
            del self._signals[signal_id]

    def _drop_task(self, key: Key) -> None:
        task = self._tasks.get(key[0], {}).pop(key[1], None)
        if task is not None and task.token:
            self._tokens.pop(task.token, None)

    def get_execution(self, arn: str) -> ExecutionRecord:
        with self._lock:
            if arn not in self._executions:
                raise ExecutionDoesNotExist(arn)
            row, snapshot = self._executions[arn], self._snapshots[arn]
        return replace(row, snapshot=_plain(snapshot))

    def describe_execution(self, arn: str) -> ExecutionRecord:
        with self._lock:
            if arn not in self._executions:
                raise ExecutionDoesNotExist(arn)
            return replace(self._executions[arn])

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
        after = tokens.decode(token, "ev", 1)[0] if token is not None else None
        with self._lock:
            if arn not in self._history:
                raise ExecutionDoesNotExist(arn)
            events = self._history[arn].page(limit, after, reverse=reverse)
        # Through JSON, as a database would give them: nothing in the page is shared with another event.
        items: list[dict[str, Any]] = json.loads(_dumps(events[:limit]))
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
            self._running[arn] = None
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
        self._signals[signal_id] = SignalRecord(signal_id, execution_arn, json.loads(_dumps(body)), now)
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
        with self._lock:
            return [
                TimerRecord(a, t, due)
                for a in dict.fromkeys(execution_arns)
                for t, due in self._timers.get(a, {}).items()
            ]

    def due_timers(self, before: float, limit: int) -> list[TimerRecord]:
        with self._lock:
            due = sorted(
                (d, a, t) for a, timers in self._timers.items() for t, d in timers.items() if d < before
            )
        return [TimerRecord(a, t, d) for d, a, t in due[:limit]]

    def open_tasks(self, execution_arns: Sequence[str]) -> list[TaskRecord]:
        with self._lock:
            return [
                replace(t)
                for a in dict.fromkeys(execution_arns)
                for t in self._tasks.get(a, {}).values()
                if t.status in OPEN_TASK
            ]

    def get_task(self, token: str) -> TaskRecord:
        with self._lock:
            if token not in self._tokens:
                raise TaskDoesNotExist(token)
            arn, task_id = self._tokens[token]
            return replace(self._tasks[arn][task_id])

    def claim_activity_task(
        self, activity_arn: str, worker: str, now: float, started: SignalFor
    ) -> TaskRecord | None:
        with self._lock:
            waiting = [
                t
                for tasks in self._tasks.values()
                for t in tasks.values()
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
            if token not in self._tokens:
                raise TaskDoesNotExist(token)
            arn, task_id = self._tokens[token]
            task = self._tasks[arn][task_id]
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
            running = (self._executions[arn] for arn in self._running)
            expired = [e for e in running if e.lease_until < now]
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
        return [e for e in map(self._executions.__getitem__, self._running) if e.owner == owner]


def _set_lease(rows: Iterable[ExecutionRecord], owner: str | None, lease_until: float) -> int:
    count = 0
    for row in rows:
        row.owner, row.lease_until = owner, lease_until
        count += 1
    return count


class _History:
    """One execution's events: a marshalled chunk per commit, with the first and last event id in it.

    Marshalling is several times cheaper than JSON and leaves bytes, which the garbage collector does not
    traverse (as dicts, the events of every execution ever run would be walked by each full collection).
    The interpreter numbers events in the order it emits them, so ids grow along the chunks.
    """

    __slots__ = ("_chunks",)

    def __init__(self) -> None:
        self._chunks: list[tuple[int, int, bytes]] = []

    def append(self, events: list[dict[str, Any]]) -> None:
        self._chunks.append((events[0]["id"], events[-1]["id"], marshal.dumps(events, 4)))

    def page(self, limit: int, after: int | None, *, reverse: bool) -> list[dict[str, Any]]:
        """At least ``limit + 1`` events past ``after`` (all there are, if fewer), in the order asked."""
        found: list[dict[str, Any]] = []
        for first, last, blob in reversed(self._chunks) if reverse else self._chunks:
            if after is not None and (first >= after if reverse else last <= after):
                continue
            events: list[dict[str, Any]] = marshal.loads(blob)
            if reverse:
                events.reverse()
            if after is not None:
                events = [e for e in events if (e["id"] < after if reverse else e["id"] > after)]
            found += events
            if len(found) > limit:
                break
        return found


def _refusal(change: Change, row: ExecutionRecord | None) -> StoreError | None:
    """Why a change to an existing execution may not be written: unknown, owned by another, or stale."""
    arn = change.execution_arn
    if row is None:
        return ExecutionDoesNotExist(arn)
    if row.owner != change.owner:
        return LeaseLost(f"{arn} is owned by {row.owner}, not {change.owner}")
    if row.version != change.version:
        return ConflictError(f"{arn} is at version {row.version}, not {change.version}")
    return None


def _plain(snapshot: bytes | str) -> Any:
    """A stored snapshot as a database gives it back: plain JSON values, nothing shared."""
    return json.loads(snapshot if isinstance(snapshot, str) else _dumps(marshal.loads(snapshot)))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _page(kind: str, rows: dict[str, T], limit: int, token: str | None) -> Page[T]:
    arns = sorted(rows)
    if token is not None:
        (after,) = tokens.decode(token, kind, 1)
        arns = [a for a in arns if a > after]
    chosen = arns[:limit]
    items = [copy.copy(rows[a]) for a in chosen]
    return Page(items, tokens.encode(kind, chosen[-1]) if len(arns) > limit else None)
