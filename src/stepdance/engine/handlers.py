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

import importlib
import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepdance.asl import errors
from stepdance.asl.history import to_json
from stepdance.asl.protocol import InvokeTask, Signal, TaskFailed, TaskSucceeded

if TYPE_CHECKING:
    from stepdance.engine.runtime import Engine

Handler = Callable[..., Any]
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


@dataclass(frozen=True, slots=True)
class TaskContext:
    execution_arn: str
    task_id: str
    state_name: str
    resource: str
    token: str | None = None
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None

    @property
    def idempotency_key(self) -> str:
        """The same every time this task is invoked, after a crash included (made when asked: most
        handlers key their effects by their own ids, and hashing it for every task showed in profiles)."""
        return idempotency_key(self.execution_arn, self.task_id)


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

    def arguments(self, context: TaskContext) -> tuple[Any, ...]:
        return (self.payload, context) if self.handler.wants_context else (self.payload,)


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


def unresolved(command: InvokeTask) -> Signal:
    return TaskFailed(command.task_id, errors.TASK_FAILED, f"No handler registered for {command.resource}")


def run_sync(call: Call, context: TaskContext) -> Signal:
    """Call a synchronous handler (in a worker thread); its outcome as a signal."""
    try:
        return succeeded(call, context, call.handler.fn(*call.arguments(context)))
    except Exception as exc:
        return failed(context, exc)


async def run_async(call: Call, context: TaskContext) -> Signal:
    try:
        return succeeded(call, context, await call.handler.fn(*call.arguments(context)))
    except Exception as exc:
        return failed(context, exc)


def succeeded(call: Call, context: TaskContext, result: Any) -> Signal:
    if call.wrap_lambda:
        result = {"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200}
    try:
        output = to_json(result)
    except (TypeError, ValueError) as exc:
        return failed(context, exc)
    return TaskSucceeded(context.task_id, output)


def failed(context: TaskContext, exc: Exception) -> Signal:
    if isinstance(exc, TaskFailure):
        return TaskFailed(context.task_id, exc.error, exc.cause)
    # A handler's own bug fails the task, as an unhandled Lambda error does.
    return TaskFailed(context.task_id, type(exc).__name__, str(exc))


def load_handlers(engine: Engine, module_name: str) -> int:
    """Register the handlers ``module_name`` provides; how many resources it registered."""
    module = importlib.import_module(module_name)
    before = len(engine.handlers)
    register = getattr(module, "register", None)
    if callable(register):
        register(engine)
    else:
        for resource, fn in getattr(module, "HANDLERS", {}).items():
            engine.register(resource, fn)
    return len(engine.handlers) - before
