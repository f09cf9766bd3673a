"""Random identifiers made per event: event ids (version-4 UUID text) and W3C trace and span ids.

They come from :func:`random.getrandbits` rather than the operating system's generator: they must be unique,
not secret, and ``uuid.uuid4`` / ``secrets`` cost a system call each, which showed in profiles at three per
published event. The ``random`` module reseeds itself from the operating system in a forked child, so
processes forked from one parent do not repeat each other's ids.
"""

from __future__ import annotations

from random import getrandbits

_VERSION_4 = 0x4000 << 64  # the version nibble (4) in time_hi_and_version
_VARIANT = 0x8000 << 48  # the RFC 4122 variant bits (10) in clock_seq
_CLEARED = ~((0xF000 << 64) | (0xC000 << 48))


def event_id() -> str:
    """A random version-4 UUID, as ``str(uuid.uuid4())`` writes one."""
    h = f"{(getrandbits(128) & _CLEARED) | _VERSION_4 | _VARIANT:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def trace_id() -> str:
    """32 hex digits, never all zero (W3C Trace Context forbids it)."""
    return f"{getrandbits(128) or 1:032x}"


def span_id() -> str:
    """16 hex digits, never all zero."""
    return f"{getrandbits(64) or 1:016x}"
