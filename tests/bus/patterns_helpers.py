"""Shorthands for the pattern tests: an event with the mandatory envelope, and match/refusal in one call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepdance.bus.patterns import InvalidEventPattern, compile_pattern

ENVELOPE = {
    "id": "1",
    "source": "test-source",
    "detail-type": "test-detail-type",
    "account": "123456789012",
    "region": "us-east-2",
    "time": "2022-07-13T13:48:01Z",
}


def event(**fields: Any) -> dict[str, Any]:
    return {**ENVELOPE, **fields}


def matches(pattern: dict[str, Any] | str, **fields: Any) -> bool:
    return compile_pattern(pattern).matches(event(**fields))


def reason(pattern: dict[str, Any] | str) -> str:
    """The reason AWS gives for refusing ``pattern`` (the text after ``Reason: ``)."""
    with pytest.raises(InvalidEventPattern) as caught:
        compile_pattern(pattern if isinstance(pattern, str) else json.dumps(pattern))
    assert caught.value.message == f"Event pattern is not valid. Reason: {caught.value.reason}"
    return caught.value.reason
