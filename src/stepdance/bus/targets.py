"""Where a rule's target delivers: a Python handler registered by name, an HTTP endpoint, or a state machine
execution on the engine. Each kind is one small invoker; a failure is a :class:`TargetFailure` whose
``retryable`` decides between a retry and the dead-letter queue.

Target ARNs:

- ``arn:aws:lambda:<region>:<account>:function:<name>``: the handler registered as ``name``;
- ``http://...`` or ``https://...``: POST the input (EventBridge would need an API destination);
- ``arn:aws:states:<region>:<account>:stateMachine:<name>``: StartExecution, named after the event and the
  rule, so a redelivered event never starts a second execution.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from stepdance.aio import in_thread
from stepdance.bus import headers as h
from stepdance.bus.cloudevents import CloudEvent, from_bus_event, to_binary, to_structured

if TYPE_CHECKING:
    from stepdance.engine import Client as EngineClient

Handler = Callable[..., Any]
# a batch handler: [(input, context), ...] -> one outcome per item (None: done; an exception: that item failed),
# or None when every item is done; raising fails every item
BatchHandler = Callable[[list[tuple[Any, "DeliveryContext"]]], Any]
_LAMBDA = re.compile(r"arn:aws[\w-]*:lambda:[\w-]*:\d*:function:([^:]+)(?::[^:]+)?")
_STATE_MACHINE = re.compile(r"arn:aws[\w-]*:states:[\w-]*:\d*:stateMachine:[^:]+")
RETRIED_STATUSES = frozenset({401, 407, 409, 429})  # and every 5xx, as EventBridge's API destinations retry
PERMANENT_ENGINE_ERRORS = frozenset(
    {"StateMachineDoesNotExist", "InvalidExecutionInput", "InvalidArn", "InvalidName", "ValidationException"}
)
HTTP_TIMEOUT = 5.0


class TargetFailure(Exception):
    """A delivery failed. Raise it from a handler to choose the error code the dead letter records and
    whether the bus retries (``retryable=False`` sends the event to the dead-letter queue at once)."""

    def __init__(self, code: str, message: str = "", *, retryable: bool = True) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What a handler may want besides its input: the whole event and where it comes from."""

    event: dict[str, Any]
    bus: str
    rule: str
    target_id: str
    attempt: int
    headers: dict[str, str] = field(default_factory=dict)  # correlation-id, causation-id, traceparent
    span: str | None = None  # the traceparent of this delivery's span (None: tracing is off)

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def replay_name(self) -> str | None:
        name = self.event.get("replay-name")
        return str(name) if name is not None else None

    def cloudevent(self) -> CloudEvent:
        """The event as a CloudEvent (CloudEvents 1.0, with correlation and trace context extensions)."""
        return from_bus_event(self.event, self.headers, eventbus=self.bus)

    def caused_headers(self) -> dict[str, str]:
        """Headers for an event this delivery causes (give them to ``outbox.publish``)."""
        return h.caused_by(self.event_id, self.headers, self.span)


def kind_of(arn: str) -> str | None:
    """``handler``, ``http`` or ``state-machine``; None for an ARN the bus cannot deliver to."""
    if _LAMBDA.fullmatch(arn):
        return "handler"
    if arn.startswith(("http://", "https://")):
        return "http"
    if _STATE_MACHINE.fullmatch(arn):
        return "state-machine"
    return None


def handler_name(arn: str) -> str | None:
    found = _LAMBDA.fullmatch(arn)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class _Registered:
    fn: Handler
    wants_context: bool
    is_async: bool
    batch: bool = False


class Handlers:
    """Python handlers by name. A handler takes the input (the event, or what the target's input settings
    make of it, parsed from JSON), or the input and a :class:`DeliveryContext`; ``async def`` handlers run on
    the loop, others in a thread."""

    def __init__(self) -> None:
        self._by_name: dict[str, _Registered] = {}

    def register(self, name: str, fn: Handler) -> None:
        required = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        self._by_name[name] = _Registered(fn, len(required) >= 2, inspect.iscoroutinefunction(fn))

    def register_batch(self, name: str, fn: BatchHandler) -> None:
        self._by_name[name] = _Registered(fn, True, inspect.iscoroutinefunction(fn), batch=True)

    def is_batch(self, name: str) -> bool:
        handler = self._by_name.get(name)
        return handler is not None and handler.batch

    async def invoke_batch(
        self, name: str, items: list[tuple[str | None, DeliveryContext, bool]]
    ) -> list[TargetFailure | None]:
        """Invoke a batch handler once for ``items`` (input text, context, whether the input is the whole
        event: then it is the context's parsed event, not parsed again); each item's failure, or None."""
        handler = self._by_name[name]
        parsed = [(context.event if whole else _parsed(text), context) for text, context, whole in items]
        try:
            if handler.is_async:
                outcomes = await handler.fn(parsed)
            else:
                outcomes = await in_thread(handler.fn, parsed)
        except Exception as error:
            return [_failure(error)] * len(items)
        if outcomes is None:
            return [None] * len(items)
        outcomes = list(outcomes)
        if len(outcomes) != len(items):
            wrong = TargetFailure("HandlerError", f"{len(outcomes)} outcomes for {len(items)} events")
            return [wrong] * len(items)
        return [None if o is None else _failure(o) for o in outcomes]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    async def invoke(self, name: str, input_text: str | None, context: DeliveryContext) -> None:
        handler = self._by_name.get(name)
        if handler is None:
            raise TargetFailure("ResourceNotFound", f"no handler is registered as {name!r} in this process")
        args = (_parsed(input_text), context) if handler.wants_context else (_parsed(input_text),)
        try:
            if handler.is_async:
                await handler.fn(*args)
            else:
                await in_thread(handler.fn, *args)
        except TargetFailure:
            raise
        except Exception as error:  # a handler's own failure: retried, as a Lambda function's would be
            raise _failure(error) from error


def _failure(error: BaseException) -> TargetFailure:
    if isinstance(error, TargetFailure):
        return error
    return TargetFailure(type(error).__name__, str(error))


def _parsed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


async def post(
    client: aiohttp.ClientSession, url: str, input_text: str | None, context: DeliveryContext
) -> None:
    """POST the input as JSON with the event's carried headers; 401, 407, 409, 429, 5xx and network errors
    are retried, other non-2xx answers are not."""
    request_headers = {"content-type": "application/json", **context.headers, "x-event-id": context.event_id}
    await _send(client, url, (input_text or "").encode(), request_headers, retry_every_failure=False)


async def post_cloudevent(
    client: aiohttp.ClientSession,
    url: str,
    event: CloudEvent,
    mode: str,
    *,
    traceparent: str | None = None,
    retry_every_failure: bool = False,
) -> None:
    """POST ``event`` in the CloudEvents HTTP binding's ``mode`` (binary or structured), with
    ``traceparent`` (this delivery's span) as the W3C header; failures as :func:`post` says, or every one
    retried with ``retry_every_failure`` (a Pub/Sub push subscription's rule)."""
    request_headers, body = to_structured(event) if mode == "structured" else to_binary(event)
    if traceparent:
        request_headers["traceparent"] = traceparent
    await _send(client, url, body, request_headers, retry_every_failure=retry_every_failure)


async def _send(
    client: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    retry_every_failure: bool,
) -> None:
    try:
        async with client.post(url, data=body, headers=headers) as response:
            status = response.status
            answer = await response.read()  # read, so the connection goes back to the pool
    except TimeoutError as error:
        raise TargetFailure("Timeout", f"POST {url}: {error!r}") from error
    except aiohttp.ClientError as error:
        raise TargetFailure("ConnectionError", f"POST {url}: {error!r}") from error
    if 200 <= status < 300:
        return
    retryable = retry_every_failure or status in RETRIED_STATUSES or status >= 500
    text = answer[:500].decode(errors="replace")
    raise TargetFailure(f"HTTP{status}", f"POST {url} answered {status}: {text}", retryable=retryable)


def execution_name(context: DeliveryContext) -> str:
    """Stable for one event, rule and target (and replay), so a redelivery names the same execution."""
    scope = f"{context.bus}/{context.rule}/{context.target_id}/{context.replay_name or ''}"
    digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', context.event_id)[:60]}-{digest}"


async def start_execution(
    client: EngineClient, arn: str, input_text: str | None, context: DeliveryContext
) -> None:
    from stepdance.engine import StepFunctionsError

    try:
        await client.start_execution(
            stateMachineArn=arn,
            name=execution_name(context),
            input=input_text if input_text is not None else "{}",
        )
    except StepFunctionsError as error:
        if error.code == "ExecutionAlreadyExists":  # started by an earlier delivery of this event
            return
        raise TargetFailure(
            error.code, error.message, retryable=error.code not in PERMANENT_ENGINE_ERRORS
        ) from error
