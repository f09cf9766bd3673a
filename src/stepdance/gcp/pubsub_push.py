"""Push subscriptions: each message POSTed to the subscription's endpoint, acknowledged by a success answer.

As Pub/Sub pushes: the body is the wrapped message unless ``no_wrapper`` is set::

    {"message": {"data": "<base64>", "attributes": {...}, "messageId": "...", "message_id": "...",
                 "publishTime": "2026-...Z", "publish_time": "2026-...Z", "orderingKey": "..."},
     "subscription": "projects/p/subscriptions/s", "deliveryAttempt": 3}

and with ``no_wrapper`` the data itself, the attributes as ``x-goog-pubsub-<key>`` headers when
``write_metadata`` asks for them. 102, 200, 201, 202 and 204 acknowledge the message; any other answer, or
none within the ack deadline, gives it back, to come again after the retry policy's back-off (and to the
dead-letter topic after its last attempt), as Pub/Sub does. At most :data:`IN_FLIGHT` requests run at once
per subscription.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp

from stepdance.gcp.pubsub_broker import Broker, Received
from stepdance.gcp.pubsub_config import PushConfig

ACKS = frozenset({102, 200, 201, 202, 204})
IN_FLIGHT = 16
log = logging.getLogger(__name__)


def body_of(subscription: str, message: Received, config: PushConfig) -> tuple[bytes, dict[str, str]]:
    """The request's body and headers for ``message``."""
    if config.no_wrapper:
        headers = {"Content-Type": "application/octet-stream"}
        if config.write_metadata:
            headers |= {f"x-goog-pubsub-{k}": v for k, v in message.attributes.items()}
            headers |= {
                "x-goog-pubsub-message-id": message.message_id,
                "x-goog-pubsub-publish-time": _rfc3339(message.publish_time),
                "x-goog-pubsub-subscription-name": subscription,
            }
        return message.data, headers
    published = _rfc3339(message.publish_time)
    wrapped: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(message.data).decode("ascii"),
            "attributes": message.attributes,
            "messageId": message.message_id,
            "message_id": message.message_id,
            "publishTime": published,
            "publish_time": published,
        },
        "subscription": subscription,
    }
    if message.ordering_key:
        wrapped["message"]["orderingKey"] = message.ordering_key
    if message.delivery_attempt:
        wrapped["deliveryAttempt"] = message.delivery_attempt
    return json.dumps(wrapped).encode(), {"Content-Type": "application/json"}


class Pusher:
    """Delivers one push subscription's messages until stopped."""

    def __init__(self, broker: Broker, subscription: str, config: PushConfig, ack_deadline: float) -> None:
        self.broker = broker
        self.subscription = subscription
        self.config = config
        self.ack_deadline = ack_deadline
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"push {self.subscription}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.ack_deadline)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            running: set[asyncio.Task[None]] = set()
            try:
                while True:
                    room = IN_FLIGHT - len(running)
                    if room <= 0:
                        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                        continue
                    try:
                        got = await self.broker.pull(self.subscription, room, 1.0)
                    except KeyError:
                        return  # the subscription was detached
                    except Exception:
                        log.exception("push %s: could not pull", self.subscription)
                        await asyncio.sleep(1.0)  # the transport is down: try again in a while
                        continue
                    for message in got:
                        task = asyncio.ensure_future(self._push(session, message))
                        running.add(task)
                        task.add_done_callback(running.discard)
            finally:
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)

    async def _push(self, session: aiohttp.ClientSession, message: Received) -> None:
        body, headers = body_of(self.subscription, message, self.config)
        try:
            async with session.post(self.config.push_endpoint, data=body, headers=headers) as answer:
                ok = answer.status in ACKS
        except (aiohttp.ClientError, TimeoutError) as error:
            log.info("push %s to %s failed: %s", self.subscription, self.config.push_endpoint, error)
            ok = False
        if ok:
            await self.broker.acknowledge(self.subscription, [message.ack_id])
        else:
            await self.broker.modify_ack_deadline(self.subscription, [message.ack_id], 0)


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
