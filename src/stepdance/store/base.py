"""The storage contract: one interface, implemented by memory, SQLite and PostgreSQL stores.

Every method is synchronous and thread-safe; the engine calls them from worker threads so that its event
loop keeps running, unless the store says it never blocks (:attr:`Store.blocking`). Every method raises only
:mod:`stepdance.store.errors`.

The write path of executions is :meth:`Store.commit`: a batch of :class:`~stepdance.store.records.Change`
from many executions in one transaction (the group-commit unit). Everything else is either a read, a small
catalog write (state machines, activities), or an operation on work that other processes share: leases,
activity tasks, task tokens and signals.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from stepdance.store.errors import StoreError
from stepdance.store.records import (
    ActivityRecord,
    Change,
    ExecutionRecord,
    Page,
    SignalRecord,
    StateMachineRecord,
    TaskRecord,
    TimerRecord,
)

SignalFor = Callable[[TaskRecord], dict[str, Any]]


class Store(ABC):
    """Durable state of the engine. ``limit`` arguments bound a page; ``token`` is a page's ``next_token``."""

    #: How many :meth:`commit` calls may run at once. Batches never share an execution (its actor waits
    #: for one change before the next), so a database with row locks can take several in parallel.
    concurrent_commits: int = 1

    #: Whether a call may wait on something outside the process (a database). The engine calls a store that
    #: never blocks straight from its event loop: a hop to a worker thread would cost more than the call.
    blocking: bool = True

    # ------------------------------------------------------------------ catalog: state machines, activities

    @abstractmethod
    def create_state_machine(self, record: StateMachineRecord) -> None:
        """Insert the machine and its first revision; :class:`StateMachineAlreadyExists` if the arn is taken."""

    @abstractmethod
    def get_state_machine(self, arn: str) -> StateMachineRecord: ...

    @abstractmethod
    def get_revision(self, arn: str, revision_id: str) -> StateMachineRecord:
        """The machine as it was at ``revision_id``: what an execution started then runs, even after an
        update or a delete."""

    @abstractmethod
    def update_state_machine(
        self, arn: str, *, definition: str, role_arn: str, revision_id: str, update_date: float
    ) -> StateMachineRecord: ...

    @abstractmethod
    def delete_state_machine(self, arn: str) -> None:
        """Remove the machine (its revisions stay for the executions that run them). No error if absent."""

    @abstractmethod
    def list_state_machines(self, limit: int, token: str | None = None) -> Page[StateMachineRecord]: ...

    @abstractmethod
    def create_activity(self, record: ActivityRecord) -> None: ...

    @abstractmethod
    def get_activity(self, arn: str) -> ActivityRecord: ...

    @abstractmethod
    def delete_activity(self, arn: str) -> None: ...

    @abstractmethod
    def list_activities(self, limit: int, token: str | None = None) -> Page[ActivityRecord]: ...

    # ------------------------------------------------------------------ executions

    @abstractmethod
    def commit(self, changes: Sequence[Change]) -> list[StoreError | None]:
        """Write every change in one transaction; return, per change, ``None`` or why it was refused
        (:class:`ExecutionAlreadyExists`, :class:`LeaseLost`, :class:`ConflictError`). Refused changes write
        nothing; the others are durable when this returns. Raises only when the whole batch failed."""

    @abstractmethod
    def get_execution(self, arn: str) -> ExecutionRecord:
        """The execution with its snapshot; :class:`ExecutionDoesNotExist` if unknown."""

    def describe_execution(self, arn: str) -> ExecutionRecord:
        """The execution, its snapshot possibly left out (``None``): what DescribeExecution and a waiter
        need. A store may override this to skip reading and decoding the snapshot."""
        return self.get_execution(arn)

    @abstractmethod
    def list_executions(
        self, state_machine_arn: str, status: str | None, limit: int, token: str | None = None
    ) -> Page[ExecutionRecord]:
        """Newest first (start date, then arn), keyset-paginated; records come without their snapshot."""

    @abstractmethod
    def get_history(
        self, arn: str, limit: int, token: str | None = None, *, reverse: bool = False
    ) -> Page[dict[str, Any]]: ...

    @abstractmethod
    def redrive_execution(
        self, arn: str, *, owner: str | None, lease_until: float, now: float, signal: dict[str, Any]
    ) -> ExecutionRecord:
        """Reopen a FAILED/TIMED_OUT/ABORTED execution (RUNNING, redrive count + 1, owned by ``owner``) and
        queue ``signal`` for it, atomically; :class:`ExecutionNotRedrivable` otherwise."""

    # ------------------------------------------------------------------ signals from non-owners

    @abstractmethod
    def add_signal(self, execution_arn: str, body: dict[str, Any], now: float) -> int:
        """Queue a signal for a RUNNING execution; returns its id. :class:`ExecutionDoesNotExist` if the
        execution is unknown."""

    @abstractmethod
    def fetch_signals(self, owner: str, limit: int) -> list[SignalRecord]:
        """Signals queued for RUNNING executions that ``owner`` holds, oldest first."""

    # ------------------------------------------------------------------ timers and tasks

    @abstractmethod
    def timers(self, execution_arns: Sequence[str]) -> list[TimerRecord]: ...

    @abstractmethod
    def due_timers(self, before: float, limit: int) -> list[TimerRecord]:
        """Timers due before ``before``, earliest first."""

    @abstractmethod
    def open_tasks(self, execution_arns: Sequence[str]) -> list[TaskRecord]:
        """Tasks not yet CLOSED: what a worker taking these executions over must re-issue or wait for."""

    @abstractmethod
    def get_task(self, token: str) -> TaskRecord:
        """The task carrying ``token``; :class:`TaskDoesNotExist` if none does."""

    @abstractmethod
    def claim_activity_task(
        self, activity_arn: str, worker: str, now: float, started: SignalFor
    ) -> TaskRecord | None:
        """Hand the oldest SCHEDULED task of the activity to ``worker`` (it becomes STARTED) and queue the
        signal ``started(task)`` for its execution, atomically. Concurrent callers never get the same task."""

    @abstractmethod
    def signal_task(self, token: str, now: float, signal: SignalFor, *, close: bool) -> TaskRecord:
        """Queue ``signal(task)`` for the execution of the task carrying ``token``, and mark the task
        ANSWERED if ``close`` (a result: no second answer, but still open until the execution applies
        it), atomically. :class:`TaskDoesNotExist` for an unknown token, :class:`TaskClosed` for a task
        that was answered, timed out or cancelled."""

    # ------------------------------------------------------------------ leases

    @abstractmethod
    def claim_executions(
        self, owner: str, now: float, lease_until: float, limit: int
    ) -> list[ExecutionRecord]:
        """Take RUNNING executions whose lease expired (or that nobody owns): they become ``owner``'s until
        ``lease_until``, one version later. Concurrent callers never get the same execution."""

    @abstractmethod
    def renew_leases(self, owner: str, lease_until: float) -> int:
        """Extend every lease ``owner`` holds on a RUNNING execution; returns how many."""

    @abstractmethod
    def release_leases(self, owner: str, execution_arns: Sequence[str] | None = None) -> int:
        """Give up ``owner``'s leases (all of them, or those listed) so another worker can take them now."""

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""
