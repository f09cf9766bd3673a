"""Opaque ``nextToken`` values for keyset pagination: the sort key of the last row handed out."""

from __future__ import annotations

import base64
import json
from typing import Any

from stepdance.store.errors import InvalidPageToken


def encode(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, kind: str, size: int) -> list[Any]:
    """The key ``encode(kind, ...)`` wrapped; :class:`InvalidPageToken` if ``token`` is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidPageToken(f"Invalid Token: '{token}'") from exc
    if not isinstance(value, list) or len(value) != size + 1 or value[0] != kind:
        raise InvalidPageToken(f"Invalid Token: '{token}'")
    return value[1:]
