"""Archives: one consumer group per bus that has archives writes each event into every archive of the bus
whose pattern it matches (replayed and redriven events are not archived again); :func:`purge` drops events
past an archive's retention."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stepdance.bus import headers as h
from stepdance.bus import names
from stepdance.bus.catalog import ArchivedEvent
from stepdance.bus.consumer import Consumer
from stepdance.bus.envelope import parse_event
from stepdance.bus.transports import Delivery

if TYPE_CHECKING:
    from stepdance.bus.runtime import Bus

log = logging.getLogger(__name__)
DAY = 86_400.0


class ArchiveConsumer(Consumer):
    def __init__(self, bus: Bus, bus_name: str) -> None:
        super().__init__(bus.transport, names.topic(bus_name), names.ARCHIVE_GROUP, bus.consumer_settings)
        self.bus = bus
        self.bus_name = bus_name

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        rows = [row for d in deliveries for row in self._rows(d)]
        try:
            if rows:
                await self.bus.store(self.bus.catalog.archive_events, rows)
        except Exception:
            log.exception("archiving %d events of %s failed", len(rows), self.bus_name)
            for delivery in deliveries:
                await delivery.nack(self.settings.reconnect_seconds)
            return
        for delivery in deliveries:
            await delivery.ack()

    def _rows(self, delivery: Delivery) -> list[ArchivedEvent]:
        message = delivery.message
        if h.ONLY_GROUP in message.headers or h.REPLAY_RULES in message.headers:
            return []
        text = message.body.decode(errors="replace")
        event = parse_event(text)
        if isinstance(event, str):
            log.warning("not archiving a message of %s that is no event: %s", self.bus_name, event)
            return []
        received = float(message.headers.get(h.PUBLISHED_AT, self.bus.clock()))
        carried = {k: v for k, v in message.headers.items() if k != h.PUBLISHED_AT}
        return [
            ArchivedEvent(archive.name, event["id"], received, text, carried)
            for archive in self.bus.definitions.archives_of(self.bus_name)
            if archive.wants(event, received)
        ]


async def purge(bus: Bus) -> int:
    """Drop archived events older than their archive's retention; how many went."""
    dropped = 0
    now = bus.clock()
    for archive in bus.definitions.archives.values():
        if archive.retention_days > 0:
            dropped += await bus.store(
                bus.catalog.purge_archive, archive.name, now - archive.retention_days * DAY
            )
    return dropped
