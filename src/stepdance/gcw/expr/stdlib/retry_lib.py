"""The ``retry`` module and the shape of retry policies.

``retry.always(e)`` and ``retry.never(e)`` are predicates usable in expressions. A policy such as
``${http.default_retry}`` is not a map a workflow can inspect: it names a predicate, a retry count and a
backoff, and the interpreter applies it to a ``try`` step. The documented defaults are a predicate, five
retries and a backoff starting at 1 second, multiplied by 1.25 up to 60 seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.values import FunctionRef


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before each retry: ``initial_delay`` seconds, times ``multiplier`` each time."""

    initial_delay: float
    """Seconds before the first retry."""
    max_delay: float
    """The delay never grows beyond this many seconds."""
    multiplier: float
    """Each delay is the previous one times this."""

    def as_map(self) -> dict[str, Any]:
        return {
            "initial_delay": self.initial_delay,
            "max_delay": self.max_delay,
            "multiplier": self.multiplier,
        }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A named retry policy: which errors to retry, how many times, how long to wait."""

    predicate: FunctionRef
    """A function of the error map returning a boolean: retry when true."""
    max_retries: int
    """Retries after the first attempt."""
    backoff: Backoff

    def as_map(self) -> dict[str, Any]:
        return {
            "predicate": self.predicate,
            "max_retries": self.max_retries,
            "backoff": self.backoff.as_map(),
        }


DEFAULT_BACKOFF = Backoff(initial_delay=1, max_delay=60, multiplier=1.25)


@builtin("retry.always", "e")
def always(context: Context, e: Any) -> bool:
    return True


@builtin("retry.never", "e")
def never(context: Context, e: Any) -> bool:
    return False


FUNCTIONS = [always, never]
VALUES: dict[str, Any] = {"retry.default_backoff": DEFAULT_BACKOFF}
