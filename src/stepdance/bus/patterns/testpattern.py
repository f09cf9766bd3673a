"""``TestEventPattern``: does this pattern match this event, with the API's checks on both."""

from __future__ import annotations

import json
from typing import Any

from stepdance.bus.patterns.errors import InvalidEvent
from stepdance.bus.patterns.match import compile_pattern
from stepdance.bus.patterns.numbers import parse_json_number

# The API documents ``resources`` as mandatory too, but AWS accepts events without it.
MANDATORY_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def parse_event(event: str | dict[str, Any]) -> dict[str, Any]:
    """The event as a JSON object; InvalidEvent unless it is one with EventBridge's mandatory fields."""
    if isinstance(event, str):
        try:
            event = json.loads(
                event, parse_float=parse_json_number, parse_int=parse_json_number, parse_constant=_refuse
            )
        except ValueError:
            raise InvalidEvent() from None
    if not isinstance(event, dict) or any(name not in event for name in MANDATORY_FIELDS):
        raise InvalidEvent()
    return event


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def test_event_pattern(event: str | dict[str, Any], pattern: str | dict[str, Any]) -> bool:
    """True when ``pattern`` matches ``event``. Raises InvalidEvent (``ValidationException``) for an event
    that is not an EventBridge event, checked first, then InvalidEventPattern for a bad pattern."""
    parsed = parse_event(event)
    return compile_pattern(pattern).matches(parsed)


test_event_pattern.__test__ = False  # type: ignore[attr-defined]  # a library function, not a pytest test
