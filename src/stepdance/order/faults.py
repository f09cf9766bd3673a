"""Failures injected on purpose into the services' calls, decided by the order id so that a run is
reproducible.

::

    faults = Faults(transient={"payment": 0.1, "notification": 0.1}, seed=7)
    Payment(engine, faults=faults)          # ~10% of orders: the first charge attempt raises TransientFailure

    faults = Faults(rules=[
        Rule("notification", "send", "transient", window=(0.0, 3.0)),   # down for the first 3 s
        Rule("payment", "refund", "permanent", rate=0.2),                # a fifth of the refunds never work
        Rule("inventory", "reserve", "latency", seconds=0.5, calls=frozenset({3, 7})),
    ], seed=7)
    faults.arm()                            # windows count from here

A rule strikes a call of its service's operation:

- by ``rate``: whether an order is chosen is a pure function of (seed, rule, order id); a chosen order's first
  ``failures`` attempts are struck (every attempt for ``permanent``);
- by ``calls``: the Nth calls of the operation (1-based, counted in this process), whichever orders make them;
- within ``window``: only while the seconds since :meth:`Faults.arm` are in ``[start, end)``, where every
  call of a chosen order is struck (a service that is down).

A ``permanent`` rule that struck an order once strikes every later call of that order, whatever its call
number or window: the order's record is broken for good, which is what retrying must not cure.

``transient`` raises :class:`~stepdance.order.model.TransientFailure` (retrying helps), ``permanent``
:class:`~stepdance.order.model.ServiceFailure` (it does not), ``latency`` sleeps ``seconds`` before the
call goes on. Attempts are counted in memory (per process), under a lock: a service restarted mid-run
strikes a chosen order again. Every strike is recorded in :attr:`Faults.strikes`, for the scenarios' figures.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from stepdance.order.model import ServiceFailure, TransientFailure

OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "payment": ("charge", "refund"),
    "inventory": ("reserve", "release"),
    "notification": ("send",),
}
SERVICES = frozenset(OPERATIONS)
EFFECTS = ("transient", "permanent", "latency")
_MAIN = {service: operations[0] for service, operations in OPERATIONS.items()}


@dataclass(frozen=True)
class Rule:
    """Which calls of ``service``'s ``operation`` are struck, and how; see the module docstring."""

    service: str
    operation: str
    effect: str
    rate: float = 1.0
    calls: frozenset[int] = frozenset()
    failures: int = 1
    seconds: float = 0.0
    window: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(
                f"faults: unknown service {self.service!r} (one of {', '.join(sorted(SERVICES))})"
            )
        if self.operation not in OPERATIONS[self.service]:
            known = ", ".join(OPERATIONS[self.service])
            raise ValueError(f"faults: {self.service} has no operation {self.operation!r} (one of {known})")
        if self.effect not in EFFECTS:
            raise ValueError(f"faults: unknown effect {self.effect!r} (one of {', '.join(EFFECTS)})")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"faults: the {self.service} rate must be between 0 and 1, not {self.rate}")
        if self.failures < 1:
            raise ValueError(f"faults: failures must be at least 1, not {self.failures}")
        if any(n < 1 for n in self.calls):
            raise ValueError(f"faults: call numbers start at 1, not {min(self.calls)}")
        if self.seconds < 0:
            raise ValueError(f"faults: latency cannot be negative: {self.seconds}")
        if self.window is not None and not 0.0 <= self.window[0] < self.window[1]:
            raise ValueError(f"faults: a window is [start, end) with 0 <= start < end, not {self.window}")


@dataclass(frozen=True)
class Strike:
    """One struck call: when (seconds since :meth:`Faults.arm`), which rule, where, and how."""

    at: float
    rule: int
    service: str
    operation: str
    order_id: str
    effect: str
    attempt: int


@dataclass
class _Counts:
    attempts: dict[tuple[int, str], int] = field(default_factory=dict)  # (rule, order) -> attempts seen
    calls: dict[int, int] = field(default_factory=dict)  # rule -> calls of its operation seen


class Faults:
    """Which calls of the services fail, are slow, or go through; see the module docstring."""

    def __init__(
        self,
        transient: Mapping[str, float] | None = None,
        *,
        rules: Sequence[Rule] = (),
        seed: int = 0,
        failures: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        count_calls: bool = False,
    ) -> None:
        if failures < 1:
            raise ValueError(f"faults: failures must be at least 1, not {failures}")
        # the plain form: a share of the orders whose first call of a service's main operation fails
        self.transient = dict(transient or {})
        plain = [
            Rule(service, _MAIN.get(service, ""), "transient", rate=rate, failures=failures)
            if service in SERVICES
            else Rule(service, "", "transient")  # refused, naming the service
            for service, rate in self.transient.items()
        ]
        self.rules: tuple[Rule, ...] = (*plain, *rules)
        self._plain = len(plain)
        self.seed = seed
        self.failures = failures
        self.clock = clock
        self.sleep = sleep
        self.armed = clock()
        self.strikes: list[Strike] = []
        # every call per (service, operation, order), when asked: what a run's retries are counted from
        self.calls: dict[tuple[str, str, str], int] | None = {} if count_calls else None
        self._counts = _Counts()
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Windows count from now."""
        self.armed = self.clock()

    def chosen(self, service: str, order_id: str, operation: str | None = None) -> bool:
        """Whether some rate rule on ``service``'s ``operation`` (its main one by default) picks
        ``order_id`` (pure: the same answer every time)."""
        wanted = operation or _MAIN.get(service)
        return any(
            self._picks(index, rule, order_id)
            for index, rule in enumerate(self.rules)
            if rule.service == service and rule.operation == wanted and not rule.calls
        )

    def check(self, service: str, order_id: str, operation: str | None = None) -> None:
        """Count a call; sleep, or raise TransientFailure or ServiceFailure, when a rule strikes it."""
        wanted = operation or _MAIN.get(service, "")
        if self.calls is not None:
            with self._lock:
                key = (service, wanted, order_id)
                self.calls[key] = self.calls.get(key, 0) + 1
        for index, rule in enumerate(self.rules):
            if rule.service == service and rule.operation == wanted:
                attempt = self._struck(index, rule, order_id)
                if attempt:
                    self._apply(rule, order_id, attempt)

    def retries(self) -> int:
        """Calls made again for an order already called (``count_calls`` only): the retries a run cost."""
        with self._lock:
            return sum(n - 1 for n in (self.calls or {}).values())

    def attempts(self, service: str, order_id: str, operation: str | None = None) -> int:
        """How many calls of a chosen order were counted by the first rule on ``service``'s ``operation``
        (0 for orders no rule chose)."""
        wanted = operation or _MAIN.get(service)
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.service == service and rule.operation == wanted:
                    return self._counts.attempts.get((index, order_id), 0)
        return 0

    def _picks(self, index: int, rule: Rule, order_id: str) -> bool:
        if rule.rate <= 0.0:
            return False
        # the plain rules keep the key they always had, so a seed picks the same orders as before
        key = (
            f"{self.seed}:{rule.service}:{order_id}"
            if index < self._plain
            else f"{self.seed}:{index}:{rule.service}.{rule.operation}:{order_id}"
        )
        return rule.rate >= 1.0 or fraction(key) < rule.rate

    def _struck(self, index: int, rule: Rule, order_id: str) -> int:
        """The attempt number when ``rule`` strikes this call, else 0."""
        now = self.clock() - self.armed
        with self._lock:
            calls = self._counts.calls[index] = self._counts.calls.get(index, 0) + 1
            broken = rule.effect == "permanent" and (index, order_id) in self._counts.attempts
            # struck once for good: every later call of the order fails too
            if not broken and not self._strikes_now(index, rule, order_id, now, calls):
                return 0
            key = (index, order_id)
            attempt = self._counts.attempts[key] = self._counts.attempts.get(key, 0) + 1
            lasting = rule.window is not None or rule.calls or rule.effect == "permanent"
            if not lasting and attempt > rule.failures:
                return 0
            self.strikes.append(
                Strike(now, index, rule.service, rule.operation, order_id, rule.effect, attempt)
            )
        return attempt

    def _strikes_now(self, index: int, rule: Rule, order_id: str, now: float, calls: int) -> bool:
        if rule.window is not None and not rule.window[0] <= now < rule.window[1]:
            return False
        if rule.calls:
            return calls in rule.calls
        return self._picks(index, rule, order_id)

    def _apply(self, rule: Rule, order_id: str, attempt: int) -> None:
        what = f"injected {rule.operation} failure, attempt {attempt} of order {order_id}"
        if rule.effect == "latency":
            self.sleep(rule.seconds)
        elif rule.effect == "permanent":
            raise ServiceFailure(rule.service, what)
        else:
            raise TransientFailure(rule.service, what)


def fraction(key: str) -> float:
    """A uniform number in [0, 1) from ``key``: the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
