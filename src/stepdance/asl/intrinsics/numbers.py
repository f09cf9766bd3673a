"""States.MathAdd, MathRandom and UUID. Randomness comes from the scope unless a seed is given."""

from __future__ import annotations

import random
import uuid

from stepdance.asl.intrinsics.invocation import InvalidArguments, Invocation, java_round, truncated


def math_add(inv: Invocation) -> int:
    return java_round(inv.args[0]) + java_round(inv.args[1])


def math_random(inv: Invocation) -> int:
    """An integer in ``[start, end)``; the same seed gives the same number."""
    start, end = truncated(inv.args[0]), truncated(inv.args[1])
    if start >= end:
        raise InvalidArguments
    source = random.Random(truncated(inv.args[2])) if len(inv.args) == 3 else inv.scope.random
    return source.randrange(start, end)


def uuid4(inv: Invocation) -> str:
    return str(uuid.UUID(int=inv.scope.random.getrandbits(128), version=4))
