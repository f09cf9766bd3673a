"""``equals-ignore-case`` as event-ruler does it: each character of the operand may appear as itself, its
lower case or its upper case form (Unicode mappings, so ``ß`` also accepts ``SS``), never case-folded
further."""

from __future__ import annotations

import re


def pattern_text(operand: str) -> str:
    """A regular expression (not anchored) for the strings equal to ``operand`` ignoring case."""
    parts = []
    for char in operand:
        forms = sorted({char, char.lower(), char.upper()}, key=lambda form: (-len(form), form))
        parts.append(
            "(?:" + "|".join(re.escape(form) for form in forms) + ")" if len(forms) > 1 else re.escape(char)
        )
    return "".join(parts)


class IgnoreCase:
    """Equality, prefix and suffix tests against one operand, ignoring case."""

    __slots__ = ("_ascii", "_equal", "_lower", "_prefix", "_suffix")

    def __init__(self, operand: str) -> None:
        body = pattern_text(operand)
        self._lower = operand.lower()
        self._ascii = operand.isascii()
        self._equal = re.compile(body, re.DOTALL)
        self._prefix = re.compile(body, re.DOTALL)
        self._suffix = re.compile("(?:" + body + r")\Z", re.DOTALL)

    def equals(self, value: str) -> bool:
        if self._ascii and value.isascii():
            return value.lower() == self._lower
        return self._equal.fullmatch(value) is not None

    def starts(self, value: str) -> bool:
        if self._ascii and value.isascii():
            return value.lower().startswith(self._lower)
        return self._prefix.match(value) is not None

    def ends(self, value: str) -> bool:
        if self._ascii and value.isascii():
            return value.lower().endswith(self._lower)
        return self._suffix.search(value) is not None
