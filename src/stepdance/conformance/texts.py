"""Text-level pieces of the normalisation: date-time and UUID recognition, and the ordered list of
replacements LocalStack applies to the JSON serialisation of a whole snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

# Shape only; the calendar (month lengths, leap years, years 1000-9999) is checked by ``_real_date``.
# Hours of a zone offset stop at 19, as in LocalStack's pattern.
_DATE_TIME_SHAPE = re.compile(
    r"(?P<year>[1-9]\d{3})-(?P<month>\d\d)-(?P<day>\d\d)"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?"
    r"(?:Z|[+-][01]\d:?(?:[0-5]\d)?)"
)
_UUID_PREFIX = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _real_date(match: re.Match[str]) -> bool:
    try:
        dt.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return False
    return True


def starts_with_date_time(text: str) -> bool:
    match = _DATE_TIME_SHAPE.match(text)
    return match is not None and _real_date(match)


def mask_date_times(text: str) -> str:
    """Every ISO-8601 date-time with a real calendar date becomes ``date``.

    After a shape whose date is impossible the search resumes one character later, not after it, so the
    matches are exactly those of a calendar-exact pattern.
    """
    parts: list[str] = []
    position = 0
    while (match := _DATE_TIME_SHAPE.search(text, position)) is not None:
        if _real_date(match):
            parts.append(text[position : match.start()] + "date")
            position = match.end()
        else:
            parts.append(text[position : match.start() + 1])
            position = match.start() + 1
    parts.append(text[position:])
    return "".join(parts)


def starts_with_uuid(text: str) -> bool:
    return _UUID_PREFIX.match(text) is not None


class TextReplacements:
    """Replacements registered while walking the document, applied in registration order to its JSON text
    (``json.dumps`` defaults: ``", "``/``": "`` separators, non-ASCII escaped)."""

    def __init__(self) -> None:
        self._steps: list[Callable[[str], str]] = []
        self._referenced: set[str] = set()
        self._numbers: Counter[str] = Counter()

    def literal(self, old: str, new: str) -> None:
        self._steps.append(lambda text: text.replace(old, new))

    def pattern(self, pattern: re.Pattern[str] | str, replacement: str) -> None:
        compiled = re.compile(pattern)
        self._steps.append(lambda text: compiled.sub(replacement, text))

    def function(self, step: Callable[[str], str]) -> None:
        self._steps.append(step)

    def reference(self, value: str, name: str) -> None:
        """``value`` becomes ``<name:N>`` wherever it occurs; N counts the distinct values of that name.

        Only double quotes are escaped to find the value inside JSON text (LocalStack does the same, so a
        value holding backslashes or non-ASCII characters is left as it is in both histories).
        """
        escaped = value.replace('"', '\\"')
        if escaped in self._referenced:
            return
        self._referenced.add(escaped)
        self._numbers[name] += 1
        self.literal(escaped, f"<{name}:{self._numbers[name]}>")

    def apply(self, document: Any) -> Any:
        text = json.dumps(document)
        for step in self._steps:
            text = step(text)
        return json.loads(text)
