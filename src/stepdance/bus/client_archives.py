"""The client's archive and replay calls: CreateArchive, DescribeArchive, ListArchives, UpdateArchive,
DeleteArchive, StartReplay, DescribeReplay, ListReplays, CancelReplay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stepdance.bus import names, shapes
from stepdance.bus.calls import Calls
from stepdance.bus.catalog import ArchiveRecord, ReplayRecord
from stepdance.bus.errors import (
    IllegalStatusException,
    InvalidEventPatternException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    constraint,
)
from stepdance.bus.patterns import InvalidEventPattern, compile_pattern

CANCELLABLE = ("STARTING", "RUNNING")


def _pattern(pattern: str | None) -> str | None:
    if pattern is None:
        return None
    try:
        compile_pattern(pattern)
    except InvalidEventPattern as error:
        raise InvalidEventPatternException(error.message) from None
    return pattern


def _retention(days: Any) -> int:
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise constraint(days, "retentionDays", "Member must have value greater than or equal to 0")
    return days


class ArchiveCalls(Calls):
    async def create_archive(
        self,
        *,
        ArchiveName: str,
        EventSourceArn: str,
        Description: str | None = None,
        EventPattern: str | None = None,
        RetentionDays: int = 0,
        **_: Any,
    ) -> dict[str, Any]:
        names.check(ArchiveName, "archiveName", names.SIMPLE_NAME, 48)
        bus = names.bus_of_arn(EventSourceArn)
        if bus is None:
            raise ValidationException(f"Parameter EventSourceArn is not valid: {EventSourceArn}")
        record = ArchiveRecord(
            ArchiveName,
            bus,
            _pattern(EventPattern),
            Description,
            _retention(RetentionDays),
            "ENABLED",
            self.bus.clock(),
        )
        await self._require_bus(bus)
        if not await self._store(self.catalog.create_archive, record):
            raise ResourceAlreadyExistsException(f"Archive {ArchiveName} already exists.")
        await self.bus.ensure_group(bus, names.ARCHIVE_GROUP)
        self.bus.changed()
        return {
            "ArchiveArn": names.archive_arn(self.settings, ArchiveName),
            "State": record.state,
            "CreationTime": shapes.when(record.created),
        }

    async def _archive(self, name: str) -> ArchiveRecord:
        record = await self._store(self.catalog.get_archive, name)
        if record is None:
            raise ResourceNotFoundException(f"Archive {name} does not exist.")
        return record

    async def describe_archive(self, *, ArchiveName: str) -> dict[str, Any]:
        record = await self._archive(ArchiveName)
        count, size = await self._store(self.catalog.archive_stats, ArchiveName)
        return shapes.archive(self.settings, record, count, size)

    async def list_archives(
        self,
        *,
        NamePrefix: str | None = None,
        EventSourceArn: str | None = None,
        State: str | None = None,
        NextToken: str | None = None,
        Limit: int | None = None,
    ) -> dict[str, Any]:
        size = shapes.limit(Limit)
        bus = names.bus_of_arn(EventSourceArn) if EventSourceArn else None
        found = await self._store(
            self.catalog.list_archives, NamePrefix or "", bus, shapes.decode_token(NextToken), size + 1
        )
        archives = [shapes.archive(self.settings, a) for a in found if State is None or a.state == State]
        return shapes.paged(
            "Archives", archives, size, found[min(size, len(found)) - 1].name if found else ""
        )

    async def update_archive(
        self,
        *,
        ArchiveName: str,
        Description: str | None = None,
        EventPattern: str | None = None,
        RetentionDays: int | None = None,
    ) -> dict[str, Any]:
        record = await self._archive(ArchiveName)
        changes: dict[str, Any] = {}
        if Description is not None:
            changes["description"] = Description
        if EventPattern is not None:
            changes["pattern"] = _pattern(EventPattern)
        if RetentionDays is not None:
            changes["retention_days"] = _retention(RetentionDays)
        if changes:
            await self._store(self.catalog.update_archive, ArchiveName, **changes)
            self.bus.changed()
        return {
            "ArchiveArn": names.archive_arn(self.settings, ArchiveName),
            "State": record.state,
            "CreationTime": shapes.when(record.created),
        }

    async def delete_archive(self, *, ArchiveName: str) -> dict[str, Any]:
        await self._archive(ArchiveName)
        await self._store(self.catalog.delete_archive, ArchiveName)
        self.bus.changed()
        return {}

    # ------------------------------------------------------------------ replays

    async def start_replay(
        self,
        *,
        ReplayName: str,
        EventSourceArn: str,
        EventStartTime: Any,
        EventEndTime: Any,
        Destination: Mapping[str, Any],
        Description: str | None = None,
    ) -> dict[str, Any]:
        names.check(ReplayName, "replayName", names.SIMPLE_NAME, 64)
        start, end = (
            shapes.epoch(EventStartTime, "eventStartTime"),
            shapes.epoch(EventEndTime, "eventEndTime"),
        )
        if start >= end:
            raise ValidationException(
                "Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime."
            )
        archive_name = names.archive_of_arn(EventSourceArn)
        if archive_name is None:
            raise ValidationException(f"Parameter EventSourceArn is not valid: {EventSourceArn}")
        archive = await self._archive(archive_name)
        destination = _destination(Destination, archive.bus)
        now = self.bus.clock()
        record = ReplayRecord(
            ReplayName, archive_name, Description, start, end, destination, "STARTING", None, now
        )
        if not await self._store(self.catalog.create_replay, record):
            raise ResourceAlreadyExistsException(f"Replay {ReplayName} already exists.")
        self.bus.changed()
        return {
            "ReplayArn": names.replay_arn(self.settings, ReplayName),
            "State": "STARTING",
            "ReplayStartTime": shapes.when(now),
        }

    async def _replay(self, name: str) -> ReplayRecord:
        record = await self._store(self.catalog.get_replay, name)
        if record is None:
            raise ResourceNotFoundException(f"Replay {name} does not exist.")
        return record

    async def describe_replay(self, *, ReplayName: str) -> dict[str, Any]:
        return shapes.replay(self.settings, await self._replay(ReplayName))

    async def list_replays(
        self,
        *,
        NamePrefix: str | None = None,
        State: str | None = None,
        EventSourceArn: str | None = None,
        NextToken: str | None = None,
        Limit: int | None = None,
    ) -> dict[str, Any]:
        size = shapes.limit(Limit)
        found = await self._store(
            self.catalog.list_replays, NamePrefix or "", State, shapes.decode_token(NextToken), size + 1
        )
        archive = names.archive_of_arn(EventSourceArn) if EventSourceArn else None
        replays = [shapes.replay(self.settings, r) for r in found if archive is None or r.archive == archive]
        return shapes.paged("Replays", replays, size, found[min(size, len(found)) - 1].name if found else "")

    async def cancel_replay(self, *, ReplayName: str) -> dict[str, Any]:
        record = await self._replay(ReplayName)
        # a replay no worker has claimed yet is cancelled outright; a running one stops at its next batch
        if await self._store(
            self.catalog.update_replay,
            ReplayName,
            expect=["STARTING"],
            state="CANCELLED",
            ended=self.bus.clock(),
        ):
            state = "CANCELLED"
        elif await self._store(
            self.catalog.update_replay, ReplayName, expect=["RUNNING"], state="CANCELLING"
        ):
            state = "CANCELLING"
        else:
            raise IllegalStatusException(f"Replay {ReplayName} is {record.state} and cannot be cancelled.")
        return {"ReplayArn": names.replay_arn(self.settings, ReplayName), "State": state}


def _destination(destination: Mapping[str, Any], archive_bus: str) -> dict[str, Any]:
    bus = names.bus_of_arn(destination.get("Arn", "")) if isinstance(destination, Mapping) else None
    if bus is None:
        raise ValidationException("Parameter Destination.Arn is not valid.")
    if bus != archive_bus:
        raise ValidationException(
            "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted."
        )
    filters: Sequence[str] = destination.get("FilterArns") or []
    for arn in filters:
        found = names.rule_of_arn(arn)
        if found is None or found[0] != bus:
            raise ValidationException(
                f"Parameter Destination.FilterArns is not valid: {arn} is not a rule of {bus}."
            )
    result: dict[str, Any] = {"Arn": destination["Arn"]}
    if filters:
        result["FilterArns"] = list(filters)
    return result
