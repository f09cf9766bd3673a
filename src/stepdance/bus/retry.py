"""A target's RetryPolicy, as EventBridge defines and validates it, and the back-off between attempts."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stepdance.bus.errors import constraint

MAX_RETRY_ATTEMPTS = 185
MAX_EVENT_AGE = 86_400
MIN_EVENT_AGE = 60


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    maximum_retry_attempts: int = MAX_RETRY_ATTEMPTS
    """How many times a failed delivery is retried (0 to 185): 185 retries means 186 attempts."""

    maximum_event_age: int = MAX_EVENT_AGE
    """Seconds (60 to 86,400) after publication past which an undelivered event is dead-lettered."""

    @classmethod
    def parse(cls, shape: Mapping[str, Any] | None, where: str = "retryPolicy") -> RetryPolicy:
        """From PutTargets' ``RetryPolicy``; a missing field keeps its default. ValidationException in AWS's
        words for a value out of range."""
        if not shape:
            return cls()
        attempts = shape.get("MaximumRetryAttempts", MAX_RETRY_ATTEMPTS)
        age = shape.get("MaximumEventAgeInSeconds", MAX_EVENT_AGE)
        _check_range(attempts, f"{where}.maximumRetryAttempts", 0, MAX_RETRY_ATTEMPTS)
        _check_range(age, f"{where}.maximumEventAgeInSeconds", MIN_EVENT_AGE, MAX_EVENT_AGE)
        return cls(attempts, age)

    def shape(self) -> dict[str, int]:
        return {
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": self.maximum_event_age,
        }

    def exhausted(self, attempt: int) -> bool:
        """True when the ``attempt``-th delivery (1 for the first) failed and no retry is left."""
        return attempt > self.maximum_retry_attempts


def _check_range(value: Any, where: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise constraint(value, where, "Member must be an integer")
    if value < low:
        raise constraint(value, where, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise constraint(value, where, f"Member must have value less than or equal to {high}")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off with full jitter: before retry ``n`` wait a random time between 0 and
    ``min(cap, base * multiplier ** (n - 1))`` seconds. Tests pass a tiny ``base``; ``rng`` makes the jitter
    reproducible."""

    base: float = 1.0
    cap: float = 300.0
    multiplier: float = 2.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th delivery failed (1 for the first)."""
        ceiling = min(self.cap, self.base * self.multiplier ** min(attempt - 1, 64))
        return self.rng.uniform(0.0, ceiling)
