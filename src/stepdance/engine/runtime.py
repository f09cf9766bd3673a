"""The engine: advances executions durably, many at once, on one asyncio loop.

It owns the executions it runs through a lease, one :class:`~stepdance.engine.actor.Actor` each; a group
committer writes their steps; a timer loop fires Wait, retry and timeout timers; handlers run as asyncio
tasks or in a thread pool. Background loops renew the leases, take over executions whose owner died (and
re-issue what they were waiting on), and pick up signals other processes queued in the store.

``Engine(store, worker=False)`` starts and signals executions without running them: a worker process
sharing the store takes them over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from stepdance import telemetry
from stepdance.aio import wait_event
from stepdance.asl import machine
from stepdance.asl.protocol import (
    CancelTask,
    CancelTimer,
    Command,
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartTimer,
    TaskSucceeded,
    TimerFired,
)
from stepdance.engine import background
from stepdance.engine.actor import Actor
from stepdance.engine.changes import Pending, extend, invocation
from stepdance.engine.committer import GroupCommitter
from stepdance.engine.events import PUT_EVENTS, EventsClient, put_events_handler
from stepdance.engine.handlers import Handler, Handlers
from stepdance.engine.http_tasks import HTTP_RESOURCES, HttpTasks
from stepdance.engine.invoker import Invoker
from stepdance.engine.languages import Program, compile_text
from stepdance.engine.pubsub_connector import PUBSUB_PUBLISH, pubsub_publish_handler
from stepdance.engine.signals import encode
from stepdance.engine.timers import TimerWheel
from stepdance.engine.tracing import ExecutionSpans
from stepdance.settings import Settings
from stepdance.store import (
    Change,
    ExecutionRecord,
    LeaseLost,
    StateMachineRecord,
    Store,
    TaskRecord,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RELOADS = 3  # times an execution is reloaded from the store after its step failed, before giving up


class Engine:
    def __init__(
        self,
        store: Store,
        settings: Settings | None = None,
        *,
        worker: bool = True,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        events: EventsClient | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or Settings.from_env()
        telemetry.configure(self.settings)
        self.worker = worker
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.handlers = Handlers()
        self.committer = GroupCommitter(store)
        self.stopping = False
        self._calls: set[asyncio.Future[Any]] = set()
        self._actors: dict[str, Actor] = {}
        self._delivered: dict[int, str] = {}  # queued signal id -> execution, handed to an actor
        self._definitions: dict[tuple[str, str], Program] = {}
        # Workflows' user-defined environment variables (sys.get_env), kept in each execution it starts
        self.workflow_env: dict[str, str] = {}
        self._finished: dict[str, asyncio.Event] = {}  # executions someone waits for
        self._final: dict[str, ExecutionRecord] = {}  # how they ended, when they ended here
        self._waiters: Counter[str] = Counter()  # how many wait for each
        self._failures: Counter[str] = Counter()
        self._activity_ready: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.signals_ready = asyncio.Event()
        self._wheel = TimerWheel(self._timer_fired, clock)
        self.invoker = Invoker(self.handlers, self.settings.handler_threads, self._task_done)
        self._background: list[asyncio.Task[None]] = []
        self.http = HttpTasks()  # Cloud Workflows' http.* calls
        for resource in HTTP_RESOURCES:
            self.handlers.register(resource, self.http.__call__)
        if events is not None:
            self.register_put_events(events)

    # ------------------------------------------------------------------ lifecycle

    def register(self, resource: str, fn: Handler | None = None) -> Any:
        """Register ``fn`` as the handler of ``resource``; without ``fn``, a decorator."""
        if fn is not None:
            self.handlers.register(resource, fn)
            return fn

        def decorate(handler: Handler) -> Handler:
            self.handlers.register(resource, handler)
            return handler

        return decorate

    def register_put_events(self, events: EventsClient) -> None:
        """Run ``arn:aws:states:::events:putEvents`` tasks through ``events`` (an EventBridge client such
        as ``stepdance.bus.Client``), and Cloud Workflows' Pub/Sub publish connector onto the same client; see
        :mod:`stepdance.engine.events` and :mod:`stepdance.engine.pubsub_connector`."""
        self.handlers.register(PUT_EVENTS, put_events_handler(events))
        self.handlers.register(PUBSUB_PUBLISH, pubsub_publish_handler(events))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._background = [loop.create_task(self.committer.run(), name="committer")]
        if self.worker:
            self._background += [
                loop.create_task(self._wheel.run(), name="timers"),
                loop.create_task(background.keep_leases(self), name="leases"),
                loop.create_task(background.fetch_signals(self), name="signals"),
            ]

    async def stop(self, *, release_leases: bool = True) -> None:
        """Stop advancing, let the changes already submitted commit, and hand the leases back (unless
        ``release_leases`` is false: then other workers take the executions over when the leases expire,
        as after a crash)."""
        self.stopping = True
        handlers = self.invoker.stop()
        await self.committer.drain()
        actors = [actor.stop() for actor in list(self._actors.values())]
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, *handlers, *filter(None, actors), return_exceptions=True)
        await asyncio.gather(*self._calls, return_exceptions=True)
        await self.http.close()
        self._actors.clear()
        if self.worker and release_leases:
            try:
                await self.call(self.store.release_leases, self.owner)
            except Exception:
                log.warning("could not release the leases of %s; they will expire", self.owner)
        self.committer.close()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, a store operation: in a worker thread when the store may block (the loop
        keeps advancing other executions meanwhile), else right here."""
        if not self.store.blocking:
            return fn(*args, **kwargs)
        # Shielded and tracked: cancelling the caller cannot stop the thread, so stop() waits for what is
        # still running there (a lease claim landing after release_leases would keep executions for 60 s).
        running = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
        self._calls.add(running)
        running.add_done_callback(self._calls.discard)
        return await asyncio.shield(running)

    @property
    def running(self) -> int:
        """How many executions this worker is advancing."""
        return len(self._actors)

    # ------------------------------------------------------------------ starting and signalling executions

    async def launch(
        self, sm: StateMachineRecord, name: str, input_text: str, arn: str, trace_header: str | None = None
    ) -> ExecutionRecord:
        """Start an execution of ``sm``: its first step and the execution row commit together. Its trace is
        ``trace_header``'s (a W3C traceparent), else the current span's, else its own (the execution's
        span is then the root of a trace named after it)."""
        now = self.clock()
        definition = self.definition_of(sm)
        trace_header = trace_header or telemetry.current_traceparent()
        info = ExecutionInfo(
            arn, name, sm.arn, sm.name, sm.role_arn, machine.iso(now), trace_header=trace_header
        )
        step = definition.start(info, input_text, now)
        owner = self.owner if self.worker else None
        lease_until = now + self.settings.lease_seconds if self.worker else 0.0
        record = ExecutionRecord(arn, sm.arn, name, sm.revision_id, input_text, now, owner=owner)
        record.lease_until = lease_until
        pending = Pending()
        change = Change(arn, 0, owner, create=record)
        extend(change, pending, step, now)
        await self.committer.submit(change)
        spans = ExecutionSpans(arn, step.state.get("info") or {}, now, now)
        if telemetry.enabled():
            spans.written(change.events, step.state.get("info") or {})
        if step.status == "RUNNING" and self.worker:
            actor = self._actor(record, definition, step.state, pending)
            actor.spans = spans  # it knows the states the first step entered
            self.dispatch(actor, step.commands)
        elif step.status != "RUNNING":
            self._set_finished(arn)
        self._notify_activities(step.commands)
        return record

    async def signal(self, arn: str, signal: Signal) -> None:
        """Queue a signal for an execution in the store (durable), for whichever worker owns it."""
        await self.call(self.store.add_signal, arn, encode(signal), self.clock())
        self.signals_ready.set()

    def signals_queued(self) -> None:
        """Something was queued in the store for an execution: look now instead of at the next poll."""
        self.signals_ready.set()

    async def adopt(self, records: Sequence[ExecutionRecord]) -> None:
        """Advance these executions from their durable state: re-arm their timers, re-issue their tasks."""
        if not records or not self.worker:
            return
        arns = [r.arn for r in records]
        timers = await self.call(self.store.timers, arns)
        tasks = await self.call(self.store.open_tasks, arns)
        pendings = {arn: Pending() for arn in arns}
        for timer in timers:
            pendings[timer.execution_arn].timers[timer.timer_id] = timer.due
        for task in tasks:
            pendings[task.execution_arn].tasks[task.task_id] = task
        for record in records:
            if record.owner != self.owner or record.status != "RUNNING" or record.snapshot is None:
                continue
            old = self._actors.pop(record.arn, None)
            if old is not None:
                old.stop()
            definition = await self.definition(record.state_machine_arn, record.revision_id)
            pending = pendings[record.arn]
            actor = self._actor(record, definition, record.snapshot, pending)
            if telemetry.enabled():
                actor.spans.adopted(record.snapshot)
            for timer_id, due in pending.timers.items():
                self._wheel.set(record.arn, timer_id, due)
            for task in list(pending.tasks.values()):
                self._reissue(actor, task)
        self.signals_ready.set()

    def _reissue(self, actor: Actor, task: TaskRecord) -> None:
        if task.kind == "activity":
            self._activity_ready[task.resource].set()
        elif task.status in ("SCHEDULED", "STARTED") and not self.invoker.running(actor.arn, task.task_id):
            command = invocation(task)
            self._invoke(actor.arn, command, actor.spans.state(command.state_name))

    def _actor(
        self, record: ExecutionRecord, definition: Program, state: dict[str, Any], pending: Pending
    ) -> Actor:
        actor = Actor(self, replace(record, snapshot=None), definition, state, pending)
        self._actors[record.arn] = actor
        actor.start()
        return actor

    # ------------------------------------------------------------------ what actors call back

    def dispatch(self, actor: Actor, commands: list[Command]) -> None:
        """Carry out the commands of a committed change."""
        for command in commands:
            match command:
                case InvokeTask(task_id=task_id) if task_id in actor.pending.tasks:
                    if command.kind == "activity":
                        self._activity_ready[command.resource].set()
                    else:
                        self._invoke(actor.arn, command, actor.spans.state(command.state_name))
                case StartTimer(timer_id=timer_id, due=due) if actor.pending.timers.get(timer_id) == due:
                    self._wheel.set(actor.arn, timer_id, due)
                case CancelTimer(timer_id=timer_id):
                    self._wheel.cancel(actor.arn, timer_id)
                case CancelTask(task_id=task_id):
                    self.invoker.cancel(actor.arn, task_id)

    def consumed(self, signal_ids: list[int]) -> None:
        for signal_id in signal_ids:
            self._delivered.pop(signal_id, None)

    def finished(self, actor: Actor) -> None:
        self._failures.pop(actor.arn, None)
        if self._actors.get(actor.arn) is actor:
            del self._actors[actor.arn]
        self._forget(actor.arn)
        self._set_finished(actor.arn, actor.record)

    def _set_finished(self, arn: str, record: ExecutionRecord | None = None) -> None:
        event = self._finished.pop(arn, None)
        if event is not None:
            if record is not None:
                self._final[arn] = record  # saves the waiter a read
            event.set()

    def _forget(self, arn: str) -> None:
        self._wheel.forget(arn)
        for signal_id in [i for i, a in self._delivered.items() if a == arn]:
            del self._delivered[signal_id]

    def lost(self, actor: Actor, error: BaseException) -> None:
        """The actor's change was refused or failed: forget it, and advance the execution again from the
        store unless another worker owns it now."""
        if self._actors.get(actor.arn) is not actor:
            return
        del self._actors[actor.arn]
        self._forget(actor.arn)
        if isinstance(error, LeaseLost) or self.stopping:
            log.info("lost %s: %s", actor.arn, error)
            return
        self._failures[actor.arn] += 1
        if self._failures[actor.arn] > MAX_RELOADS:
            # The same step keeps failing (an interpreter bug): stop re-invoking its tasks in a loop.
            log.error("gave up advancing %s after %d failures: %s", actor.arn, MAX_RELOADS, error)
            return
        asyncio.get_running_loop().create_task(background.readopt(self, actor.arn))

    def deliver(self, arn: str, signal: Signal, signal_id: int | None = None) -> bool:
        actor = self._actors.get(arn)
        if actor is None:
            return False
        if signal_id is not None:
            if signal_id in self._delivered:
                return True
            self._delivered[signal_id] = arn
        actor.deliver(signal, signal_id)
        return True

    def _timer_fired(self, arn: str, timer_id: str) -> None:
        self.deliver(arn, TimerFired(timer_id))

    # ------------------------------------------------------------------ tasks

    def _invoke(self, arn: str, command: InvokeTask, parent: str | None) -> None:
        if not self.stopping:  # else the task row stays: whoever advances the execution next invokes it
            self.invoker.start(arn, command, parent)

    def _task_done(self, arn: str, command: InvokeTask, signal: Signal) -> None:
        if command.kind == "callback" and isinstance(signal, TaskSucceeded):
            # The handler handed the token on; the result comes later with SendTaskSuccess. Recording that
            # it was handed on keeps a worker taking over from calling the handler again.
            side = Change(arn, None, self.owner, task_status={command.task_id: "SUBMITTED"})
            self.committer.submit(side).add_done_callback(_log_failure)
            return
        self.deliver(arn, signal)

    def _notify_activities(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, InvokeTask) and command.kind == "activity":
                self._activity_ready[command.resource].set()

    async def wait_for_activity(self, activity_arn: str, seconds: float) -> None:
        """Until a task of the activity may be ready (this process scheduled one) or ``seconds`` passed."""
        event = self._activity_ready[activity_arn]
        await wait_event(event, seconds)
        event.clear()

    # ------------------------------------------------------------------ definitions and waiting

    def definition_of(self, sm: StateMachineRecord) -> Program:
        """The state machine's revision parsed, in its language (ASL or Cloud Workflows)."""
        key = (sm.arn, sm.revision_id)
        if key not in self._definitions:
            self._definitions[key] = compile_text(sm.definition, self.workflow_env)
        return self._definitions[key]

    async def definition(self, sm_arn: str, revision_id: str) -> Program:
        if (sm_arn, revision_id) not in self._definitions:
            revision = await self.call(self.store.get_revision, sm_arn, revision_id)
            return self.definition_of(revision)
        return self._definitions[(sm_arn, revision_id)]

    async def wait(self, arn: str, seconds: float | None = None) -> ExecutionRecord:
        """The execution once it is no longer RUNNING (wherever it runs); TimeoutError after ``seconds``."""
        deadline = None if seconds is None else time.monotonic() + seconds
        event = self._finished.setdefault(arn, asyncio.Event())
        self._waiters[arn] += 1
        try:
            while True:
                if arn in self._final:
                    return self._final.pop(arn)
                if arn not in self._actors:  # it runs elsewhere, or it has finished: look
                    record = await self.call(self.store.describe_execution, arn)
                    if record.status != "RUNNING":
                        return record
                left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
                if left <= 0:
                    raise TimeoutError(f"{arn} is still RUNNING")
                await wait_event(event, left)
                event = self._finished.setdefault(arn, asyncio.Event())
        finally:
            self._waiters[arn] -= 1
            if not self._waiters[arn]:  # nobody waits for it any more: forget it
                del self._waiters[arn]
                self._finished.pop(arn, None)
                self._final.pop(arn, None)


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("could not record a callback as handed on: %s", future.exception())
