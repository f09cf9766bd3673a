"""Random identifiers made per event: event ids (UUID text, version 7) and W3C trace and span ids.

Event ids are UUIDv7 (RFC 9562: a millisecond timestamp, then random bits): an inbox's index of event ids
then grows at one end instead of every insert landing on a random page of it (version-4 ids cost a page
write per handled event on SQLite). They are as unique as version-4 ids; they reveal when the event was
made, which its ``time`` says anyway.

The random bits come from :func:`random.getrandbits` rather than the operating system's generator: they must
be unique, not secret, and ``uuid.uuid4`` / ``secrets`` cost a system call each, which showed in profiles at
three per published event. The ``random`` module reseeds itself from the operating system in a forked
child, so processes forked from one parent do not repeat each other's ids.
"""

from __future__ import annotations

import time
from random import getrandbits

_RANDOM_BITS = 74  # after the 48-bit timestamp, the version (4 bits) and the variant (2 bits)


def event_id() -> str:
    """A version-7 UUID, written as ``str(uuid.UUID(...))`` writes one."""
    rand = getrandbits(_RANDOM_BITS)
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | (rand >> 62) << 64  # rand_a: 12 bits
        | 0b10 << 62
        | (rand & ((1 << 62) - 1))  # rand_b: 62 bits
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def trace_id() -> str:
    """32 hex digits, never all zero (W3C Trace Context forbids it)."""
    return f"{getrandbits(128) or 1:032x}"


def span_id() -> str:
    """16 hex digits, never all zero."""
    return f"{getrandbits(64) or 1:016x}"
