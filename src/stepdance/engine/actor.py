"""One actor per execution this worker advances: its signals are applied one at a time, in order.

The actor takes every signal waiting in its queue, feeds them to the interpreter one after the other, and
writes the resulting steps as one change through the group committer. Only once that change is durable
are the steps' commands released (write-ahead): a task is never invoked before the events saying it was
scheduled are committed, and a result is committed before anything the next state does.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepdance import telemetry
from stepdance.asl.protocol import (
    Command,
    Signal,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from stepdance.engine.changes import Pending, extend, scale_retries
from stepdance.engine.languages import Program
from stepdance.engine.tracing import ExecutionSpans
from stepdance.store import Change, ExecutionRecord, StoreError

if TYPE_CHECKING:
    from stepdance.engine.runtime import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    signal: Signal
    signal_id: int | None = None  # set when the signal was queued in the store


class Actor:
    def __init__(
        self,
        engine: Engine,
        record: ExecutionRecord,
        definition: Program,
        state: dict[str, Any],
        pending: Pending,
    ) -> None:
        self.engine = engine
        self.record = record  # the row as this actor last wrote it (without the snapshot)
        self.arn = record.arn
        self.definition = definition
        self.state = state
        self.version = record.version
        self.pending = pending
        self.status = "RUNNING"
        self.spans = ExecutionSpans(
            record.arn, state.get("info") or {}, record.redrive_date or record.start_date, engine.clock()
        )
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # in a context of its own: the caller's (a client's span, when launched) is not the execution's
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"actor {self.arn}", context=contextvars.Context()
        )

    def stop(self) -> asyncio.Task[None] | None:
        """Cancel the actor; its task, to await."""
        if self._task is not None:
            self._task.cancel()
        return self._task

    def deliver(self, signal: Signal, signal_id: int | None = None) -> None:
        self._queue.put_nowait(Delivery(signal, signal_id))

    async def _run(self) -> None:
        try:
            while self.status == "RUNNING" and not self.engine.stopping:
                deliveries = [await self._queue.get()]
                while not self._queue.empty():
                    deliveries.append(self._queue.get_nowait())
                await self._apply(deliveries)
        except StoreError as error:
            self.engine.lost(self, error)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # an interpreter bug must not take the worker down with it
            log.exception("execution %s stopped advancing", self.arn)
            self.engine.lost(self, error)
        else:
            if self.status != "RUNNING":
                self.engine.finished(self)

    async def _apply(self, deliveries: list[Delivery]) -> None:
        now = self.engine.clock()
        change = Change(self.arn, self.version, self.engine.owner)
        commands: list[Command] = []
        consumed: list[int] = []
        for delivery in deliveries:
            if delivery.signal_id is not None:
                consumed.append(delivery.signal_id)
            if self.status != "RUNNING" or not self._wanted(delivery.signal):
                continue
            step = self.definition.advance(self.state, delivery.signal, now)
            if self.engine.settings.retry_scale != 1.0:
                scale_retries(step, now, self.engine.settings.retry_scale)
            extend(change, self.pending, step, now, signal=delivery.signal)
            self.state, self.status = step.state, step.status
            commands += step.commands
        change.signals_consumed = consumed
        if not commands and change.snapshot is None:
            if consumed:  # nothing to apply (stale signals): only forget them
                change.version = None
                await self.engine.committer.submit(change)
                self.engine.consumed(consumed)
            return
        await self.engine.committer.submit(change)
        self.version += 1
        self._written(change)
        if telemetry.enabled():
            self.spans.written(change.events, self.state.get("info") or {})
        self.engine.consumed(consumed)
        self.engine.dispatch(self, commands)

    def _written(self, change: Change) -> None:
        record = self.record
        record.version = self.version
        if change.events:
            record.last_event_id = int(change.events[-1]["id"])
        if change.status is not None and change.status != "RUNNING":
            record.status, record.stop_date = change.status, change.stop_date
            record.output, record.error, record.cause = change.output, change.error, change.cause

    def _wanted(self, signal: Signal) -> bool:
        """Whether the signal is still awaited: results of cancelled tasks and disarmed timers are not."""
        if isinstance(signal, TaskSucceeded | TaskFailed | TaskHeartbeat | TaskStarted):
            return signal.task_id in self.pending.tasks
        if isinstance(signal, TimerFired):
            return signal.timer_id in self.pending.timers
        return True
