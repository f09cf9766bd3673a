"""Service calls that share transactions: on SQLite, calls made at once from many threads on one service's
database commit together.

::

    calls = GroupCommit(services.payment.engine, keep=(PaymentDeclined,))
    charged = calls.run(lambda tx: services.payment.charge(tx, order))   # returns once it is committed

SQLite has one writer: service calls each in a transaction of its own, from the engine's handler threads,
queue on the write lock and sleep in SQLite's busy handler (tens of milliseconds each under load). Here
the calls made at once share one transaction, each in a savepoint of its own, run one at a time; the last
one waiting commits for all, and each call returns (or raises) only after that commit, so a task's result
is durable before the engine records it. One fsync serves a whole group.

A call that raises rolls back its savepoint (its changes and nothing else), unless its error is one of
``keep``: the decisions a service records and then raises (a decline, a stock-out), which stay the order's
answer. A failed commit fails every call of the group; none of them changed anything, and their tasks'
retries run them again.

On PostgreSQL (many writers) each call runs in a transaction of its own (``group=None`` decides by
dialect), as the service would without a caller's transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

R = TypeVar("R")
MAX_GROUP = 256  # calls in one transaction at most: a steady stream of calls still commits


class GroupCommit:
    """The calls on one database, grouped into shared transactions on SQLite."""

    def __init__(
        self,
        engine: Engine,
        *,
        keep: tuple[type[BaseException], ...] = (),
        group: bool | None = None,
        max_group: int = MAX_GROUP,
    ) -> None:
        self.engine = engine
        self.keep = keep
        self.grouped = engine.dialect.name == "sqlite" if group is None else group
        self.max_group = max_group
        self._turn = threading.Lock()  # held by the call that runs
        self._count = threading.Lock()  # guards _waiting
        self._waiting = 0
        self._open: _Group | None = None

    def run(self, fn: Callable[[Connection | None], R]) -> R:
        """``fn(tx)``'s result once its changes are committed; its error (after the commit when its changes
        are kept). ``tx`` is None when calls are not grouped: the service then begins its own."""
        if not self.grouped:
            return fn(None)
        with self._count:
            self._waiting += 1
        with self._turn:
            with self._count:
                self._waiting -= 1
            group = self._open = self._open or _Group(self.engine)
            call = _Call(fn)
            try:
                call.run(group.connection, self.keep)
            except BaseException as error:  # the savepoint could not be undone: the group is lost
                self._open = None
                group.abandon(error)
                raise
            group.size += 1
            with self._count:
                last = self._waiting == 0
            if last or group.size >= self.max_group:  # nobody queued behind: commit for the group now
                self._open = None
                group.finish()
        group.done.wait()
        if group.error is not None:
            raise group.error
        return call.outcome()


class _Call(Generic[R]):
    def __init__(self, fn: Callable[[Connection | None], R]) -> None:
        self.fn = fn
        self.result: R | None = None
        self.error: BaseException | None = None

    def run(self, connection: Connection, keep: tuple[type[BaseException], ...]) -> None:
        savepoint = connection.begin_nested()
        try:
            self.result = self.fn(connection)
        except Exception as error:
            self.error = error
            if isinstance(error, keep):
                savepoint.commit()
            else:
                savepoint.rollback()
            return
        savepoint.commit()

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class _Group:
    """One shared transaction; ``done`` once it committed (or failed to)."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect()
        self.transaction = self.connection.begin()
        self.size = 0
        self.done = threading.Event()
        self.error: BaseException | None = None

    def finish(self) -> None:
        try:
            self.transaction.commit()
        except BaseException as error:
            self.error = error
        finally:
            self.connection.close()
            self.done.set()

    def abandon(self, error: BaseException) -> None:
        self.error = error
        try:
            self.transaction.rollback()
        finally:
            self.connection.close()
            self.done.set()
