"""States.StringToJson, JsonToString and JsonMerge."""

from __future__ import annotations

import json
from typing import Any

from stepdance.asl.intrinsics.invocation import InvalidArguments, Invocation, string
from stepdance.asl.jsontext import to_json


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def string_to_json(inv: Invocation) -> Any:
    text = string(inv.args[0])
    if not text.strip():
        return None  # Jackson reads an empty document as nothing
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError:
        raise InvalidArguments from None


def json_to_string(inv: Invocation) -> str:
    return to_json(inv.args[0])


def json_merge(inv: Invocation) -> dict[str, Any]:
    """Shallow merge: the second object's keys win. AWS supports only ``false`` (no deep merge)."""
    first, second, deep = inv.args
    if not isinstance(first, dict) or not isinstance(second, dict) or deep is not False:
        raise InvalidArguments
    return {**first, **second}
