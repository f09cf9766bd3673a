"""Python task handlers: registered by resource name, called with the task's input, turned into a signal.

A handler takes the payload, or the payload and a :class:`TaskContext` (its idempotency key, the task token
of a ``.waitForTaskToken`` callback, ...). Synchronous handlers run in a thread pool, ``async def`` ones on
the engine's loop. What a handler returns is the task's result; raising :class:`TaskFailure` fails the task
with that error and cause, any other exception with the exception's class name and message (as a Lambda
function's unhandled exception does).

Resources resolve as Step Functions users write them: the exact ``Resource`` string, a Lambda function ARN
by its function name, and ``arn:aws:states:::lambda:invoke`` by its ``FunctionName`` parameter (the result
then comes back wrapped in ``Payload`` as the Lambda integration returns it).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from stepdance.asl import errors
from stepdance.asl.protocol import InvokeTask, Signal, TaskFailed, TaskSucceeded

Handler = Callable[..., Any]
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


@dataclass(frozen=True, slots=True)
class TaskContext:
    execution_arn: str
    task_id: str
    state_name: str
    resource: str
    idempotency_key: str  # the same every time this task is invoked, after a crash included
    token: str | None = None
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None


class TaskFailure(Exception):
    """Raise from a handler to fail the task with an ASL error name (matched by Retry/Catch) and a cause."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


def idempotency_key(execution_arn: str, task_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{execution_arn}#task/{task_id}"))


@dataclass(frozen=True, slots=True)
class _Registered:
    fn: Handler
    wants_context: bool
    is_async: bool


@dataclass(frozen=True, slots=True)
class Call:
    """A resolved invocation: which handler, with which input, and how its result is shaped."""

    handler: _Registered
    payload: Any
    wrap_lambda: bool


class Handlers:
    def __init__(self) -> None:
        self._by_name: dict[str, _Registered] = {}

    def register(self, resource: str, fn: Handler) -> None:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
        wants_context = len(params) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)
        self._by_name[resource] = _Registered(fn, wants_context, inspect.iscoroutinefunction(fn))

    def __contains__(self, resource: str) -> bool:
        return resource in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)

    def resolve(self, resource: str, payload: Any) -> Call | None:
        if resource in self._by_name:
            return Call(self._by_name[resource], payload, wrap_lambda=False)
        if resource == LAMBDA_INVOKE and isinstance(payload, dict) and "FunctionName" in payload:
            found = self._function(str(payload["FunctionName"]))
            return Call(found, payload.get("Payload"), wrap_lambda=True) if found else None
        if ":function:" in resource:
            found = self._function(resource)
            return Call(found, payload, wrap_lambda=False) if found else None
        return None

    def _function(self, name: str) -> _Registered | None:
        if name in self._by_name:
            return self._by_name[name]
        short = name.split(":function:", 1)[-1].split(":", 1)[0]
        return self._by_name.get(short)


async def invoke(handlers: Handlers, command: InvokeTask, context: TaskContext, threads: Executor) -> Signal:
    """Run the task's handler; its outcome as the signal to feed the interpreter."""
    call = handlers.resolve(command.resource, command.payload)
    if call is None:
        cause = f"No handler registered for {command.resource}"
        return TaskFailed(command.task_id, errors.TASK_FAILED, cause)
    try:
        result = await _run(call, context, threads)
        if call.wrap_lambda:
            result = {"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200}
        return TaskSucceeded(command.task_id, json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    except TaskFailure as failure:
        return TaskFailed(command.task_id, failure.error, failure.cause)
    except Exception as exc:  # a handler's own bug fails the task, as an unhandled Lambda error does
        return TaskFailed(command.task_id, type(exc).__name__, str(exc))


async def _run(call: Call, context: TaskContext, threads: Executor) -> Any:
    registered = call.handler
    args = (call.payload, context) if registered.wants_context else (call.payload,)
    if registered.is_async:
        awaitable: Awaitable[Any] = registered.fn(*args)
        return await awaitable
    return await asyncio.get_running_loop().run_in_executor(threads, registered.fn, *args)
