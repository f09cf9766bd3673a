"""What an intrinsic function receives, and the argument checks AWS applies.

Numbers AWS wants as integers are cut towards zero (``(int)`` in Java): ``States.ArrayRange(1.6, 1.4, 1)``
is ``[1]`` on AWS. ``States.MathAdd`` is the exception and rounds like ``Math.round``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stepdance.asl.intrinsics.parser import Call
from stepdance.asl.scope import Scope


class InvalidArguments(Exception):
    """The arguments do not suit the function; AWS answers "Invalid arguments in States.X" unless
    ``reason`` says more."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Invocation:
    call: Call
    args: list[Any]
    scope: Scope


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidArguments
    return value


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArguments
    return value


def truncated(value: Any) -> int:
    """A number as Java's ``(int)`` cast makes it."""
    if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidArguments
    return int(value)


def java_round(value: Any) -> int:
    """``Math.round``: halves go up (``-1.5`` is ``-1``), exact for values just below a half."""
    if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidArguments
    if isinstance(value, int):
        return value
    floor = math.floor(value)
    return int(floor) + (1 if value - floor >= 0.5 else 0)


def limited(text: str, limit: int = 10_000) -> str:
    """AWS caps Base64 and Hash inputs at 10,000 characters."""
    if len(text) > limit:
        raise InvalidArguments
    return text
