"""The dead-letter queue: list and inspect dead letters, redrive them to their target, delete them.

Not an EventBridge API (EventBridge writes dead letters to an SQS queue and leaves the rest to SQS), shaped
like one: PascalCase keys, ``NextToken`` paging. A redriven event is published again on its bus addressed
to its target's group only, with a fresh age and attempt count; its dead letter is then deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stepdance.bus import headers as h
from stepdance.bus import names, shapes
from stepdance.bus.calls import Calls
from stepdance.bus.catalog import DeadLetter
from stepdance.bus.errors import ResourceNotFoundException, internal
from stepdance.bus.transports import Message, TransportError


class DeadLetterCalls(Calls):
    async def list_dead_letters(
        self,
        *,
        EventBusName: str | None = None,
        Rule: str | None = None,
        TargetId: str | None = None,
        NextToken: str | None = None,
        Limit: int | None = None,
    ) -> dict[str, Any]:
        size = shapes.limit(Limit)
        bus = names.bus_name(EventBusName) if EventBusName else None
        found = await self._store(
            self.catalog.dead_letters,
            bus=bus,
            rule=Rule,
            target_id=TargetId,
            after=shapes.decode_token(NextToken),
            limit=size + 1,
        )
        letters = [shapes.dead_letter(letter) for letter in found]
        return shapes.paged(
            "DeadLetters", letters, size, found[min(size, len(found)) - 1].id if found else ""
        )

    async def describe_dead_letter(self, *, Id: str) -> dict[str, Any]:
        found = await self._store(self.catalog.dead_letters, ids=[Id])
        if not found:
            raise ResourceNotFoundException(f"Dead letter {Id} does not exist.")
        return shapes.dead_letter(found[0], full=True)

    async def delete_dead_letters(self, *, Ids: Sequence[str]) -> dict[str, Any]:
        await self._store(self.catalog.delete_dead_letters, list(Ids))
        return {}

    async def redrive_dead_letters(
        self,
        *,
        Ids: Sequence[str] | None = None,
        EventBusName: str | None = None,
        Rule: str | None = None,
        TargetId: str | None = None,
    ) -> dict[str, Any]:
        """Redrive the dead letters named by ``Ids``, or all those of a bus, rule or target (all of them
        when nothing is given). A letter whose target no longer exists stays and is reported as failed."""
        bus = names.bus_name(EventBusName) if EventBusName else None
        letters = await self._store(
            self.catalog.dead_letters,
            bus=bus,
            rule=Rule,
            target_id=TargetId,
            ids=list(Ids) if Ids is not None else None,
            limit=1_000_000,
        )
        targets = {t.key for t in (await self.bus.fresh()).targets.values()}
        failed = [
            {"Id": x.id, "ErrorMessage": f"Target {x.target_id} of rule {x.rule} no longer exists."}
            for x in letters
            if (x.bus, x.rule, x.target_id) not in targets
        ]
        ready = [x for x in letters if (x.bus, x.rule, x.target_id) in targets]
        for letter in ready:
            try:
                await self.bus.transport.publish(
                    names.topic(letter.bus), [_message(letter, self.bus.clock())]
                )
            except TransportError as error:
                raise internal(error) from error
            await self._store(self.catalog.delete_dead_letters, [letter.id])
        return {"RedrivenCount": len(ready), "FailedEntries": failed}


def _message(letter: DeadLetter, now: float) -> Message:
    headers = {
        **h.carried(letter.headers),
        h.ONLY_GROUP: names.target_group(letter.rule, letter.target_id),
        h.PUBLISHED_AT: repr(now),
    }
    return Message(
        id=f"{letter.event_id or 'poison'}#redrive:{letter.id}",
        body=letter.body.encode(),
        key=headers.get(h.CORRELATION),
        headers=headers,
    )
