"""The loop every bus consumer shares: join a group on a bus's topic, fetch batches, hand them to
``handle_batch``, and come back after a transport failure. A consumer runs until its task is cancelled."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from stepdance.bus.transports import Delivery, Subscription, Transport, TransportError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    batch: int = 128  # deliveries fetched at once (and handled concurrently, or by one batch handler call)
    in_flight: int = 2  # batches handled at once: the next is fetched while the last one commits
    fetch_wait: float = 1.0  # seconds a fetch waits for the first message
    ack_wait: float = 60.0  # seconds a delivery may take before the transport hands it to another consumer
    reconnect_seconds: float = 1.0  # pause after a transport failure


class Consumer(ABC):
    def __init__(self, transport: Transport, topic: str, group: str, settings: ConsumerSettings) -> None:
        self.transport = transport
        self.topic = topic
        self.group = group
        self.settings = settings

    async def run(self) -> None:
        while True:
            try:
                subscription = await self.transport.subscribe(
                    self.topic, self.group, ack_wait=self.settings.ack_wait
                )
            except TransportError as error:
                log.warning("cannot join %s on %s: %s", self.group, self.topic, error)
                await asyncio.sleep(self.settings.reconnect_seconds)
                continue
            try:
                await self._consume(subscription)
            except TransportError as error:
                log.warning("%s on %s failed: %s", self.group, self.topic, error)
                await asyncio.sleep(self.settings.reconnect_seconds)
            finally:
                await _close(subscription)

    async def _consume(self, subscription: Subscription) -> None:
        slots = asyncio.Semaphore(max(1, self.settings.in_flight))
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                await slots.acquire()
                try:
                    deliveries = await subscription.fetch(self.settings.batch, self.settings.fetch_wait)
                except BaseException:
                    slots.release()
                    raise
                if not deliveries:
                    slots.release()
                    continue
                task = asyncio.create_task(self.handle_batch(deliveries))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(lambda _: slots.release())
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    @abstractmethod
    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """Ack or nack every delivery; never raise."""


async def _close(subscription: Subscription) -> None:
    try:
        await subscription.close()
    except TransportError as error:
        log.warning("closing a subscription failed: %s", error)
