"""The ``time`` module: timestamps (seconds since the Unix epoch) to RFC 3339 text and back.

``time.parse`` reads RFC 3339 section 5.6 (``2024-05-08T12:01:00.000000Z``, or an offset such as
``+02:00``) and returns a double: the documented example gives 1715169660. Digits beyond microseconds
are dropped. ``time.format`` writes microseconds and ``Z`` for UTC, or the zone's offset when an IANA
time zone name is given. Time zone rules come from the system's time zone database, the one input of this
package that is not passed in; it is data, not state, so replays still agree.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import value_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Z"})


@builtin("time.format", "seconds", "timezone", required=1)
def format_(context: Context, seconds: Any, timezone: Any = "UTC") -> str:
    value = args.number("time.format", "seconds", seconds)
    zone_name = args.string("time.format", "timezone", timezone)
    zone = _zone(zone_name)
    if not math.isfinite(value):
        raise value_error(f"time.format: {value!r} is not a timestamp")
    try:
        moment = (_EPOCH + timedelta(seconds=value)).astimezone(zone)
    except OverflowError:
        raise value_error(f"time.format: timestamp {value!r} is out of range") from None
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )
    if zone_name in _UTC_NAMES:
        return text + "Z"
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@builtin("time.parse", "value")
def parse(context: Context, value: Any) -> float:
    text = args.string("time.parse", "value", value)
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise value_error(f"time.parse: {text!r} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    offset = timedelta(0)
    if match.group(9) is not None:
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        offset = -offset if match.group(9) == "-" else offset
    try:
        local = datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=UTC)
    except ValueError as error:
        raise value_error(f"time.parse: {text!r} is not a valid date and time: {error}") from None
    moment = local - offset
    whole = (moment.replace(microsecond=0) - _EPOCH) // timedelta(seconds=1)
    # Whole seconds and microseconds added separately, so the double is as exact as it can be.
    return whole + moment.microsecond / 1_000_000


def _zone(name: str) -> tzinfo:
    if name in _UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise value_error(f"time.format: unknown time zone {name!r}") from None


FUNCTIONS = [format_, parse]
