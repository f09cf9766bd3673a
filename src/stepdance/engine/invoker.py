"""Running task handlers: ``async def`` ones as tasks on the loop, the others in a thread pool.

Results from the pool come back to the loop in batches: a finished handler appends its outcome to a list
and wakes the loop only if the list was empty, so a hundred handlers finishing together cost one wake-up,
not a hundred.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager

from opentelemetry.trace import SpanKind

from stepdance import telemetry
from stepdance.asl.protocol import InvokeTask, Signal, TaskFailed
from stepdance.engine.handlers import Call, Handlers, TaskContext, run_async, run_sync, unresolved

Done = Callable[[str, InvokeTask, Signal], None]  # (execution arn, the command, its outcome)


class Invoker:
    def __init__(self, handlers: Handlers, threads: int, done: Done) -> None:
        self._handlers = handlers
        self._done = done
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="stepdance-task")
        self._running: dict[tuple[str, str], Future[None] | asyncio.Task[None]] = {}
        self._finished: list[tuple[str, InvokeTask, Signal]] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def running(self, arn: str, task_id: str) -> bool:
        return (arn, task_id) in self._running

    def start(self, arn: str, command: InvokeTask, parent: str | None = None) -> None:
        """Run ``command``'s handler; ``parent``: the traceparent of its state's span."""
        self._loop = loop = asyncio.get_running_loop()
        call = self._handlers.resolve(command.resource, command.payload)
        if call is None:
            loop.call_soon(self._done, arn, command, unresolved(command))
            return
        context = TaskContext(
            execution_arn=arn,
            task_id=command.task_id,
            state_name=command.state_name,
            resource=command.resource,
            token=command.token,
            timeout_seconds=command.timeout_seconds,
            heartbeat_seconds=command.heartbeat_seconds,
        )
        key = (arn, command.task_id)
        if call.handler.is_async:
            self._running[key] = loop.create_task(self._await(arn, command, call, context, parent))
        else:
            self._running[key] = self._pool.submit(self._run, arn, command, call, context, parent)

    def cancel(self, arn: str, task_id: str) -> None:
        """The result is no longer wanted: cancel an async handler, or a sync one not started yet."""
        running = self._running.pop((arn, task_id), None)
        if running is not None:
            running.cancel()

    def stop(self) -> list[asyncio.Task[None]]:
        """Cancel what can be cancelled; the async handlers' tasks, to await."""
        tasks = [r for r in self._running.values() if isinstance(r, asyncio.Task)]
        for running in self._running.values():
            running.cancel()
        self._running.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        return tasks

    async def _await(
        self, arn: str, command: InvokeTask, call: Call, context: TaskContext, parent: str | None
    ) -> None:
        # The handler's coroutine is made here, inside the task: made outside, a task cancelled before it
        # started (a stopping engine) would leave it never awaited.
        with _span(arn, command, parent) as span:
            signal = await run_async(call, context)
            _outcome(span, signal)
        self._running.pop((arn, command.task_id), None)
        self._done(arn, command, signal)

    def _run(
        self, arn: str, command: InvokeTask, call: Call, context: TaskContext, parent: str | None
    ) -> None:
        with _span(arn, command, parent) as span:
            signal = run_sync(call, context)
            _outcome(span, signal)
        self._post(arn, command, signal)

    def _post(self, arn: str, command: InvokeTask, signal: Signal) -> None:
        """In a pool thread: hand the outcome to the loop, waking it only for the first of a batch."""
        with self._lock:
            self._finished.append((arn, command, signal))
            first = len(self._finished) == 1
        if first and self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            finished, self._finished = self._finished, []
        for arn, command, signal in finished:
            if self._running.pop((arn, command.task_id), None) is not None:
                self._done(arn, command, signal)


def _span(arn: str, command: InvokeTask, parent: str | None) -> AbstractContextManager[telemetry.Live]:
    """The task's span, current while its handler runs (a service's spans and its events nest in it)."""
    return telemetry.span(
        f"task {command.state_name}",
        parent=parent,
        kind=SpanKind.CLIENT,
        attributes={
            "stepdance.component": "engine",
            "asl.execution.arn": arn,
            "asl.task.resource": command.resource,
            "asl.task.id": command.task_id,
        },
        correlation=arn.rsplit(":", 1)[-1],  # events a task publishes belong to its execution's flow
    )


def _outcome(span: telemetry.Live, signal: Signal) -> None:
    if isinstance(signal, TaskFailed):
        span.error = f"{signal.error}: {signal.cause or ''}".rstrip(": ")
