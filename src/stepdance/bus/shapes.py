"""Records shaped as boto3's ``events`` client returns them (PascalCase keys, datetimes), and page tokens."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from stepdance.bus import names
from stepdance.bus.catalog import ArchiveRecord, BusRecord, DeadLetter, ReplayRecord, RuleRecord
from stepdance.bus.errors import ValidationException, constraint
from stepdance.settings import Settings

T = TypeVar("T")
MAX_LIMIT = 100


def when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def epoch(value: Any, where: str) -> float:
    """A datetime, ISO 8601 text or epoch seconds as epoch seconds."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    raise constraint(value, where, "Member must be a timestamp")


def _drop_none(shape: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in shape.items() if v is not None}


def bus(settings: Settings, record: BusRecord) -> dict[str, Any]:
    return _drop_none(
        {
            "Name": record.name,
            "Arn": names.bus_arn(settings, record.name),
            "Description": record.description,
            "CreationTime": when(record.created),
            "LastModifiedTime": when(record.modified),
        }
    )


def rule(settings: Settings, record: RuleRecord) -> dict[str, Any]:
    return _drop_none(
        {
            "Name": record.name,
            "Arn": names.rule_arn(settings, record.bus, record.name),
            "EventPattern": record.pattern,
            "State": record.state,
            "Description": record.description,
            "EventBusName": record.bus,
            "CreatedBy": settings.account,
        }
    )


def archive(
    settings: Settings, record: ArchiveRecord, count: int | None = None, size: int | None = None
) -> dict[str, Any]:
    return _drop_none(
        {
            "ArchiveArn": names.archive_arn(settings, record.name),
            "ArchiveName": record.name,
            "EventSourceArn": names.bus_arn(settings, record.bus),
            "Description": record.description,
            "EventPattern": record.pattern,
            "State": record.state,
            "RetentionDays": record.retention_days,
            "SizeBytes": size,
            "EventCount": count,
            "CreationTime": when(record.created),
        }
    )


def replay(settings: Settings, record: ReplayRecord) -> dict[str, Any]:
    return _drop_none(
        {
            "ReplayName": record.name,
            "ReplayArn": names.replay_arn(settings, record.name),
            "Description": record.description,
            "State": record.state,
            "StateReason": record.reason,
            "EventSourceArn": names.archive_arn(settings, record.archive),
            "Destination": record.destination,
            "EventStartTime": when(record.event_start),
            "EventEndTime": when(record.event_end),
            "EventLastReplayedTime": when(record.last_replayed),
            "ReplayStartTime": when(record.started),
            "ReplayEndTime": when(record.ended),
        }
    )


def dead_letter(letter: DeadLetter, *, full: bool = False) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Id": letter.id,
        "EventBusName": letter.bus,
        "Rule": letter.rule,
        "TargetId": letter.target_id,
        "TargetArn": letter.target_arn,
        "EventId": letter.event_id,
        "ErrorCode": letter.error_code,
        "ErrorMessage": letter.error_message,
        "Attempts": letter.attempts,
        "ExhaustedRetryCondition": letter.exhausted,
        "Time": when(letter.created),
    }
    if full:
        shape.update(Event=letter.body, Headers=letter.headers)
    return _drop_none(shape)


def limit(value: int | None) -> int:
    if value is None:
        return MAX_LIMIT
    if not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise constraint(value, "limit", f"Member must have value between 1 and {MAX_LIMIT}")
    return value


def decode_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        raise ValidationException(f"Invalid NextToken: {token}") from None


def paged(key: str, items: Sequence[T], size: int, last: str) -> dict[str, Any]:
    """A page of at most ``size`` items (``items`` holds one more when another page follows)."""
    page: dict[str, Any] = {key: list(items[:size])}
    if len(items) > size:
        page["NextToken"] = base64.urlsafe_b64encode(last.encode()).decode()
    return page
