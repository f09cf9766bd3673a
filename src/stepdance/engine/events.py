"""The optimized EventBridge integration: a Task with ``Resource: arn:aws:states:::events:putEvents``.

::

    engine.register_put_events(events)        # any client with boto3's async put_events(Entries=...)

    "Publish": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {"Entries": [{"Source": "shop", "DetailType": "OrderCompleted",
                                            "Detail": {"orderId.$": "$.orderId"}, "EventBusName": "orders"}]},
                "Retry": [{"ErrorEquals": ["EventBridge.FailedEntry"], "MaxAttempts": 3}], "End": true}

As Step Functions does it (the "Add EventBridge events with Step Functions" guide):

- a ``Detail`` given as a JSON object is sent as its JSON text (a string is sent as written);
- the execution's ARN and its state machine's ARN are appended to each entry's ``Resources``;
- the task's result is PutEvents' response, ``{"Entries": [{"EventId": ...}], "FailedEntryCount": 0}``;
- a response with a non-zero ``FailedEntryCount`` fails the task with ``EventBridge.FailedEntry`` (the
  cause is the response, so a Catch sees which entries failed and why);
- a refused call fails it with the client's error code prefixed ``EventBridge.`` (e.g.
  ``EventBridge.ValidationException``), as Step Functions names the errors of its service integrations.

The engine knows no bus: the client is anything with that one method (``stepdance.bus.Client`` has it).
The task runs at least once, as every task does: re-invoked after a crash, it publishes again with new
event ids, so consumers make their effects idempotent (an inbox, or a key of their own).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from stepdance.awserror import AwsError
from stepdance.engine.arns import state_machine_of
from stepdance.engine.handlers import TaskContext, TaskFailure

PUT_EVENTS = "arn:aws:states:::events:putEvents"
FAILED_ENTRY = "EventBridge.FailedEntry"


class EventsClient(Protocol):
    """What the integration needs of an EventBridge client: boto3's ``put_events``, awaitable."""

    async def put_events(self, *, Entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]: ...


def put_events_handler(
    client: EventsClient,
) -> Callable[[Any, TaskContext], Awaitable[dict[str, Any]]]:
    """The task handler of :data:`PUT_EVENTS` over ``client``."""

    async def put_events(payload: Any, context: TaskContext) -> dict[str, Any]:
        entries = request_entries(payload, context.execution_arn)
        try:
            response = await client.put_events(Entries=entries)
        except AwsError as error:
            raise TaskFailure(f"EventBridge.{error.code}", error.message) from None
        return task_result(response)

    return put_events


def request_entries(payload: Any, execution_arn: str) -> list[dict[str, Any]]:
    """PutEvents' entries from the task's parameters, as Step Functions sends them."""
    entries = payload.get("Entries") if isinstance(payload, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise TaskFailure(
            "EventBridge.ValidationException",
            "The putEvents parameters must be an object with Entries, a list of objects",
        )
    arns = [execution_arn, state_machine_of(execution_arn)]
    return [_entry(entry, arns) for entry in entries]


def _entry(entry: dict[str, Any], arns: list[str]) -> dict[str, Any]:
    sent = dict(entry)
    detail = sent.get("Detail")
    if detail is not None and not isinstance(detail, str):
        sent["Detail"] = json.dumps(detail, separators=(",", ":"), ensure_ascii=False)
    given = sent.get("Resources")
    sent["Resources"] = [*(given if isinstance(given, list) else []), *arns]
    return sent


def task_result(response: Mapping[str, Any]) -> dict[str, Any]:
    """The task's result: PutEvents' response; EventBridge.FailedEntry when an entry was refused."""
    shaped = {"Entries": list(response.get("Entries", [])), "FailedEntryCount": response["FailedEntryCount"]}
    if shaped["FailedEntryCount"]:
        raise TaskFailure(FAILED_ENTRY, json.dumps(shaped, separators=(",", ":"), ensure_ascii=False))
    return shaped
