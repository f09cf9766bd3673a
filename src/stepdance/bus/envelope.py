"""PutEvents entries, checked as EventBridge checks them, and the events built from them.

An event is EventBridge's envelope::

    {"version": "0", "id": "...", "detail-type": "...", "source": "...", "account": "...",
     "time": "2024-01-01T12:00:00Z", "region": "...", "resources": [...], "detail": {...}}

The entry's ``Detail`` text is embedded as written (numbers keep their exact spelling); a replayed event
also carries ``replay-name``. Pure: ids and the current time are passed in.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

MAX_ENTRIES = 10
DEFAULT_MAX_ENTRY_BYTES = 256 * 1024  # AWS allows up to 1 MiB now; the bus takes the limit as a setting
TIME_BYTES = 14  # what AWS counts for an entry's Time, whatever its spelling
REQUIRED = ("Source", "DetailType", "Detail")
ENVELOPE_FIELDS = (
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
)
ENVELOPE_KEYS = frozenset(ENVELOPE_FIELDS)


@dataclass(frozen=True, slots=True)
class EntryError:
    """Why one entry was refused: ``ErrorCode`` and ``ErrorMessage`` of its result entry."""

    code: str
    message: str

    def result(self) -> dict[str, str]:
        return {"ErrorCode": self.code, "ErrorMessage": self.message}


def entry_size(entry: Mapping[str, Any]) -> int:
    """The entry's size as AWS computes it: Time counts 14 bytes, the other fields their UTF-8 bytes."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for name in REQUIRED:
        value = entry.get(name)
        if isinstance(value, str):
            size += len(value.encode())
    for resource in entry.get("Resources") or ():
        if isinstance(resource, str):
            size += len(resource.encode())
    return size


def check_entry(entry: Mapping[str, Any], max_bytes: int = DEFAULT_MAX_ENTRY_BYTES) -> EntryError | None:
    """None for an entry EventBridge accepts, else the first reason it refuses it, in AWS's order."""
    for name in REQUIRED:
        value = entry.get(name)
        if not isinstance(value, str) or not value:
            return EntryError(
                "InvalidArgument", f"Parameter {name} is not valid. Reason: {name} is a required argument."
            )
    if not isinstance(_detail(entry["Detail"]), dict):
        return EntryError("MalformedDetail", "Detail is malformed.")
    if entry["Source"].startswith("aws."):
        return EntryError("NotAuthorizedForSourceException", "Not authorized for the source.")
    resources = entry.get("Resources")
    if resources is not None and (
        not isinstance(resources, list | tuple) or not all(isinstance(r, str) for r in resources)
    ):
        return EntryError("InvalidArgument", "Parameter Resources is not valid.")
    if entry.get("Time") is not None and event_time(entry["Time"]) is None:
        return EntryError("InvalidArgument", "Parameter Time is not valid.")
    size = entry_size(entry)
    if size > max_bytes:
        return EntryError(
            "InvalidArgument",
            f"Parameter Entry is not valid. Reason: the entry is {size} bytes, over the limit of {max_bytes}.",
        )
    return None


def _detail(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass  # orjson is stricter in corners (lone surrogates): the standard parser decides
    try:
        return json.loads(text, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return None


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def event_time(value: Any) -> str | None:
    """An entry's Time (a datetime, ISO 8601 text or epoch seconds) as the envelope writes it."""
    if isinstance(value, str):
        return _text_time(value)  # the usual case (an outbox row, a relayed entry): cached
    when: datetime
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        when = datetime.fromtimestamp(value, UTC)
    else:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=256)
def _text_time(value: str) -> str | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time(epoch: float, *, millis: bool = False) -> str:
    """``epoch`` as ISO 8601 UTC text, to the second or the millisecond."""
    seconds = math.floor(epoch)
    fraction = round((epoch - seconds) * 1_000_000)  # rounded as datetime.fromtimestamp rounds
    if fraction >= 1_000_000:
        seconds, fraction = seconds + 1, 0
    text = _second(seconds)
    return f"{text}.{fraction // 1000:03d}Z" if millis else text + "Z"


@functools.lru_cache(maxsize=64)
def _second(seconds: int) -> str:
    # every event of one second shares this text; formatting a datetime per event showed in profiles
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def build_event(entry: Mapping[str, Any], *, event_id: str, now: float, account: str, region: str) -> bytes:
    """The event's JSON (UTF-8 bytes, as a message body) for an entry :func:`check_entry` accepted."""
    time_text = event_time(entry["Time"]) if entry.get("Time") is not None else iso_time(now)
    head = {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": time_text,
        "region": region,
        "resources": list(entry.get("Resources") or []),
    }
    detail: str = entry["Detail"]
    return orjson.dumps(head)[:-1] + b',"detail":' + detail.strip().encode() + b"}"


def with_replay_name(event_text: str, replay_name: str) -> str:
    """The event as a replay re-delivers it: the same event with ``replay-name`` set."""
    return '{"replay-name":' + json.dumps(replay_name) + "," + event_text.lstrip()[1:]


def parse_event(body: bytes | str) -> dict[str, Any] | str:
    """The event in a message body, or why it is not one (a poison message)."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson refuses some JSON the standard parser takes (integers beyond 64 bits, lone surrogates):
        # that one decides, and names the error
        try:
            event = json.loads(body, parse_constant=_refuse)
        except (ValueError, RecursionError) as error:
            return f"the message is not JSON ({error})"
    if not isinstance(event, dict):
        return "the message is not a JSON object"
    if not ENVELOPE_KEYS.issubset(event):
        missing = [name for name in ENVELOPE_FIELDS if name not in event]
        return f"the event has no {', '.join(missing)}"
    if not isinstance(event["detail"], dict) or not isinstance(event["id"], str):
        return "the event's id or detail is malformed"
    return event
