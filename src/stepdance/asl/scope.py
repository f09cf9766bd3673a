"""What an expression can see besides its input: the context object, variables and a seeded random source.

The interpreter builds one :class:`Scope` per evaluation. Randomness (``States.MathRandom``, ``States.UUID``,
JSONata's ``$random``/``$uuid``) comes from ``random``, which the interpreter seeds from the execution and the
event id, so a replay computes the same values.
"""

from __future__ import annotations

import random as _random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class LazyRandom(_random.Random):
    """A seeded generator that pays for seeding only when something draws from it (most transitions
    never do, and seeding costs more than the rest of a simple transition)."""

    def __init__(self, seed: int) -> None:  # deliberately not seeding yet
        self._pending: int | None = seed
        self.gauss_next = None

    def _ready(self) -> None:
        if self._pending is not None:
            seed, self._pending = self._pending, None
            super().seed(seed)

    def random(self) -> float:
        self._ready()
        return super().random()

    def getrandbits(self, k: int, /) -> int:
        self._ready()
        return super().getrandbits(k)


@dataclass(frozen=True, slots=True)
class Scope:
    context: Mapping[str, Any] = field(default_factory=dict)  # the $$ object
    variables: Mapping[str, Any] = field(default_factory=dict)  # names without the leading $
    random: _random.Random = field(default_factory=lambda: _random.Random(0))
