"""Everything non-deterministic an expression may observe, passed in by the caller.

The durable engine replays workflows from history, so the clock (``sys.now``), identifiers
(``uuid.generate``), randomness and the environment (``sys.get_env``) never come from the process: the engine
records what it handed out and hands the same again on replay.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ExpressionFunction = Callable[[list[Any]], Any]


@dataclass(frozen=True, slots=True)
class Context:
    now: Callable[[], float]
    """Seconds since the Unix epoch, what ``sys.now()`` returns."""
    uuid4: Callable[[], str]
    """A random version-4 UUID in its 36-character text form, what ``uuid.generate()`` returns."""
    random: Callable[[], float]
    """A float in [0, 1); no expression function uses it yet, the interpreter may (e.g. retry jitter)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """What ``sys.get_env`` reads: the built-in ``GOOGLE_CLOUD_*`` variables and user-defined ones."""
    functions: Mapping[str, ExpressionFunction] = field(default_factory=dict)
    """Extra callables by name, e.g. subworkflows, which Workflows lets expressions call; they take positional
    arguments and shadow nothing in the standard library."""

    @classmethod
    def fixed(
        cls,
        *,
        now: float = 0.0,
        uuids: Iterable[str] = (),
        randoms: Iterable[float] = (),
        env: Mapping[str, str] | None = None,
        functions: Mapping[str, ExpressionFunction] | None = None,
    ) -> Context:
        """A context that always answers the same: for tests and for replaying recorded values."""
        uuid_iter = iter(uuids)
        random_iter = itertools.chain(randoms, itertools.repeat(0.0))

        def next_uuid() -> str:
            for value in uuid_iter:
                return value
            raise LookupError("Context.fixed: every recorded uuid has been used")

        return cls(
            now=lambda: now,
            uuid4=next_uuid,
            random=lambda: next(random_iter),
            env=dict(env or {}),
            functions=dict(functions or {}),
        )
