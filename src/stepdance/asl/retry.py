"""Retry back-off, as AWS computes it: IntervalSeconds * BackoffRate^attempt, capped, optionally jittered."""

from __future__ import annotations

import random

from stepdance.asl.definition import Retrier


def next_delay(retrier: Retrier, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts retries already made)."""
    delay = float(retrier.interval_seconds) * float(retrier.backoff_rate) ** attempt
    if retrier.max_delay_seconds is not None:
        delay = min(delay, float(retrier.max_delay_seconds))
    if retrier.jitter_strategy == "FULL":
        # Full jitter: anywhere between zero and the computed delay (AWS's "FULL" strategy).
        delay = rng.uniform(0.0, delay)
    return delay
