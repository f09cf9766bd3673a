"""Path patterns over CloudEvents attributes that hold resource names (Eventarc's ``match-path-pattern``):
``*`` stands for any run of characters within one segment, a ``**`` segment for any number of segments.
Pure."""

from __future__ import annotations

import functools
import re


def pattern_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a path pattern, or None."""
    if not pattern.strip("/"):
        return f"{pattern!r} is an empty path pattern"
    for segment in _segments(pattern):
        if not segment:
            return f"{pattern!r} has an empty segment"
        if "**" in segment and segment != "**":
            return f"{pattern!r}: '**' must be a whole segment, not part of {segment!r}"
    return None


def path_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` matches the path ``pattern`` (none included for ``**``); leading slashes are
    ignored, so ``/projects/p`` and ``projects/p`` are the same path."""
    wanted = _compiled(pattern)
    given = _segments(path)
    # the classic glob walk, over segments: on a mismatch, let the last '**' swallow one more segment
    p = s = 0
    star, mark = -1, 0
    while s < len(given):
        if p < len(wanted) and wanted[p] is None:
            star, mark = p, s
            p += 1
        elif p < len(wanted) and _segment_matches(wanted[p], given[s]):
            p += 1
            s += 1
        elif star >= 0:
            p, mark = star + 1, mark + 1
            s = mark
        else:
            return False
    return all(each is None for each in wanted[p:])


def _segment_matches(segment: re.Pattern[str] | None, text: str) -> bool:
    return segment is not None and segment.fullmatch(text) is not None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> tuple[re.Pattern[str] | None, ...]:
    # None stands for '**'; a segment's '*' becomes '.*', which cannot cross a '/' as segments hold none
    return tuple(
        None if segment == "**" else re.compile(".*".join(map(re.escape, segment.split("*"))), re.DOTALL)
        for segment in _segments(pattern)
    )


def _segments(path: str) -> list[str]:
    return path.lstrip("/").split("/")
