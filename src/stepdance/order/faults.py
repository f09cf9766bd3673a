"""Transient failures injected on purpose, decided by the order id so that a run is reproducible.

::

    faults = Faults(transient={"payment": 0.1, "notification": 0.1}, seed=7)
    Payment(engine, faults=faults)          # ~10% of orders: the first charge attempt raises TransientFailure

Whether an order is chosen for a service is a pure function of (seed, service, order id); a chosen order's
first ``failures`` attempts at that service raise :class:`~stepdance.order.model.TransientFailure` and the
next succeeds, so a design that retries completes every order and one that does not shows it. Attempts are
counted in memory (per process), under a lock: a service restarted mid-run fails a chosen order again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping

from stepdance.order.model import TransientFailure

SERVICES = frozenset({"payment", "inventory", "notification"})


class Faults:
    """Which orders fail transiently at which service, and how many times."""

    def __init__(
        self, transient: Mapping[str, float] | None = None, *, seed: int = 0, failures: int = 1
    ) -> None:
        rates = dict(transient or {})
        for service, rate in rates.items():
            if service not in SERVICES:
                raise ValueError(
                    f"faults: unknown service {service!r} (one of {', '.join(sorted(SERVICES))})"
                )
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"faults: the {service} rate must be between 0 and 1, not {rate}")
        if failures < 1:
            raise ValueError(f"faults: failures must be at least 1, not {failures}")
        self.transient = rates
        self.seed = seed
        self.failures = failures
        self._attempts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def chosen(self, service: str, order_id: str) -> bool:
        """Whether ``order_id`` fails transiently at ``service`` (pure: the same answer every time)."""
        rate = self.transient.get(service, 0.0)
        return rate > 0.0 and _fraction(f"{self.seed}:{service}:{order_id}") < rate

    def check(self, service: str, order_id: str) -> None:
        """Count an attempt; raise TransientFailure if it is one of a chosen order's first ``failures``."""
        if not self.chosen(service, order_id):
            return
        with self._lock:
            attempt = self._attempts[service, order_id] = self._attempts.get((service, order_id), 0) + 1
        if attempt <= self.failures:
            raise TransientFailure(service, f"injected failure, attempt {attempt} of order {order_id}")

    def attempts(self, service: str, order_id: str) -> int:
        """How many attempts of a chosen order were counted (0 for orders not chosen)."""
        with self._lock:
            return self._attempts.get((service, order_id), 0)


def _fraction(key: str) -> float:
    """A uniform number in [0, 1) from ``key``: the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
