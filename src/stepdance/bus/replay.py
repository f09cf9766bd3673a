"""Replays: re-publish an archive's events of a time window on the archive's bus, each with ``replay-name``
set and addressed to the replay's rules (``Destination.FilterArns``, or every rule of the bus).

A replay goes STARTING -> RUNNING -> COMPLETED (or CANCELLED, FAILED). One worker claims it by moving it
from STARTING to RUNNING; it publishes the events in batches, oldest first, noting how far it got.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from stepdance.bus import headers as h
from stepdance.bus import names
from stepdance.bus.catalog import ArchivedEvent, ReplayRecord
from stepdance.bus.envelope import with_replay_name
from stepdance.bus.transports import Message

if TYPE_CHECKING:
    from stepdance.bus.runtime import Bus

log = logging.getLogger(__name__)
BATCH = 100
ALL_RULES = "*"


async def run(bus: Bus, name: str) -> None:
    if not await bus.store(bus.catalog.update_replay, name, expect=["STARTING"], state="RUNNING"):
        return  # another worker has it, or it was cancelled before it started
    replay = await bus.store(bus.catalog.get_replay, name)
    if replay is None:
        return
    try:
        finished = await _publish_window(bus, replay)
    except Exception as error:
        log.exception("replay %s failed", name)
        await bus.store(bus.catalog.update_replay, name, state="FAILED", reason=str(error), ended=bus.clock())
        return
    state = "COMPLETED" if finished else "CANCELLED"
    await bus.store(bus.catalog.update_replay, name, state=state, ended=bus.clock())


async def _publish_window(bus: Bus, replay: ReplayRecord) -> bool:
    """Publish the window's events; False when the replay was cancelled on the way."""
    destination = names.bus_of_arn(replay.destination.get("Arn", "")) or names.DEFAULT_BUS
    rules = [
        found[1] for arn in replay.destination.get("FilterArns") or [] if (found := names.rule_of_arn(arn))
    ]
    after: tuple[float, str] | None = None
    while True:
        current = await bus.store(bus.catalog.get_replay, replay.name)
        if current is None or current.state == "CANCELLING":
            return False
        events = await bus.store(
            bus.catalog.archived_events, replay.archive, replay.event_start, replay.event_end, after, BATCH
        )
        if not events:
            return True
        messages = [_message(replay.name, rules, event, bus.clock()) for event in events]
        await bus.transport.publish(names.topic(destination), messages)
        after = (events[-1].time, events[-1].event_id)
        await bus.store(bus.catalog.update_replay, replay.name, last_replayed=events[-1].time)


def _message(replay: str, rules: list[str], event: ArchivedEvent, now: float) -> Message:
    headers = {
        **h.carried(event.headers),
        h.REPLAY_RULES: ",".join(rules) or ALL_RULES,
        h.PUBLISHED_AT: repr(now),
    }
    return Message(
        id=f"{event.event_id}#replay:{replay}",
        body=with_replay_name(event.body, replay).encode(),
        key=headers.get(h.CORRELATION),
        headers=headers,
    )
