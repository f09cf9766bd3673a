"""Cloud Workflows' Pub/Sub publish connector, mapped onto the bus.

::

    - publish:
        call: googleapis.pubsub.v1.projects.topics.publish
        args:
          topic: projects/my-project/topics/orders
          body:
            messages:
              - data: ${base64.encode(json.encode(order))}
                attributes: {type: OrderCompleted, source: shop}

Each message becomes one event, published through the same EventBridge client as ASL's ``putEvents``
integration (so rules, retries, archives and tracing apply):

- ``Detail``: the message's ``data`` (base64, as Pub/Sub carries it) decoded; a JSON object is the detail
  as it is, anything else is ``{"data": <the JSON value, or the text>}``; attributes other than the three
  below are added as ``"attributes"``;
- ``Source``: the ``source`` attribute, else the topic's resource name (``projects/p/topics/orders``);
- ``DetailType``: the ``type`` attribute, else ``google.cloud.pubsub.topic.v1.messagePublished``;
- ``EventBusName``: the ``eventBusName`` attribute, else ``default``.

The result is Pub/Sub's response, ``{"messageIds": [<event ids>]}``. A message the bus refuses fails the
step with an ``HttpError`` of code 400 (the connector's tag for a refused request); the bus unreachable
fails it with code 503, which ``http.default_retry`` retries.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from stepdance.awserror import AwsError
from stepdance.engine.events import EventsClient
from stepdance.engine.handlers import TaskContext, TaskFailure

PUBSUB_PUBLISH = "googleapis.pubsub.v1.projects.topics.publish"
MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
_ROUTING = ("source", "type", "eventBusName")


def entries_of(args: Any) -> list[dict[str, Any]]:
    """PutEvents entries for the connector call's ``args``; a 400 HttpError naming what is wrong."""
    if not isinstance(args, dict) or not isinstance(args.get("topic"), str) or not args["topic"]:
        raise _http_error(400, "args.topic: the topic's resource name is required")
    body = args.get("body")
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages:
        raise _http_error(400, "args.body.messages: at least one message is required")
    return [_entry(args["topic"], message, i) for i, message in enumerate(messages)]


def _entry(topic: str, message: Any, index: int) -> dict[str, Any]:
    where = f"args.body.messages[{index}]"
    if not isinstance(message, dict):
        raise _http_error(400, f"{where}: a message is a map with data and/or attributes")
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
        raise _http_error(400, f"{where}.attributes: a map of strings")
    if "data" not in message and not attributes:
        raise _http_error(400, f"{where}: a message needs data or attributes")
    detail = _detail(message.get("data"), where)
    extra = {k: v for k, v in attributes.items() if k not in _ROUTING}
    if extra:
        detail["attributes"] = extra
    return {
        "Source": attributes.get("source") or topic,
        "DetailType": attributes.get("type") or MESSAGE_PUBLISHED,
        "Detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False),
        "EventBusName": attributes.get("eventBusName") or "default",
    }


def _detail(data: Any, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, str):
        raise _http_error(400, f"{where}.data: base64-encoded text (use base64.encode)")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _http_error(400, f"{where}.data: not valid base64") from None
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return {"data": text}
    return value if isinstance(value, dict) else {"data": value}


def pubsub_publish_handler(client: EventsClient) -> Any:
    """The handler of :data:`PUBSUB_PUBLISH` over an EventBridge client."""

    async def publish(args: Any, context: TaskContext) -> dict[str, Any]:
        entries = entries_of(args)
        try:
            response = await client.put_events(Entries=entries)
        except AwsError as error:
            # an unavailable bus is worth retrying (503: http.default_retry does); a refusal is not
            raise _http_error(503 if "Unavailable" in error.code else 400, error.message) from None
        failed = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
        if failed:
            reasons = "; ".join(f"{e['ErrorCode']}: {e.get('ErrorMessage', '')}" for e in failed)
            raise _http_error(400, f"the bus refused {len(failed)} message(s): {reasons}")
        return {"messageIds": [e["EventId"] for e in response.get("Entries", [])]}

    return publish


def _http_error(code: int, message: str) -> TaskFailure:
    error = {"code": code, "message": message, "body": {"error": {"code": code, "message": message}}}
    return TaskFailure("HttpError", json.dumps({**error, "tags": ["HttpError"]}))
