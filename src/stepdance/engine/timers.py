"""The timer loop: fire each armed timer at its due time, sleeping until the next one is due.

Timers are durable as rows (written in the commit that started them); this is their in-memory schedule for
the executions this worker owns. Re-arming a timer id replaces its due time; an earlier timer wakes the
loop up. A fired timer's row is deleted by the commit that applies it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from stepdance.aio import wait_event

Fire = Callable[[str, str], None]  # (execution arn, timer id)


class TimerWheel:
    def __init__(self, fire: Fire, clock: Callable[[], float] = time.time) -> None:
        self._fire = fire
        self._clock = clock
        self._heap: list[tuple[float, int, str, str]] = []
        self._armed: dict[str, dict[str, float]] = {}  # execution arn -> timer id -> due
        self._order = itertools.count()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return sum(len(timers) for timers in self._armed.values())

    def set(self, execution_arn: str, timer_id: str, due: float) -> None:
        self._armed.setdefault(execution_arn, {})[timer_id] = due
        if not self._heap or due < self._heap[0][0]:
            self._wake.set()
        heapq.heappush(self._heap, (due, next(self._order), execution_arn, timer_id))

    def cancel(self, execution_arn: str, timer_id: str) -> None:
        timers = self._armed.get(execution_arn)
        if timers is not None:
            timers.pop(timer_id, None)
            if not timers:
                del self._armed[execution_arn]

    def forget(self, execution_arn: str) -> None:
        """Disarm every timer of an execution this worker no longer advances."""
        self._armed.pop(execution_arn, None)

    async def run(self) -> None:
        while True:
            self._fire_due()
            delay = self._heap[0][0] - self._clock() if self._heap else None
            self._wake.clear()
            await wait_event(self._wake, delay)

    def _fire_due(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            due, _, arn, timer_id = heapq.heappop(self._heap)
            if self._armed.get(arn, {}).get(timer_id) == due:
                self.cancel(arn, timer_id)
                self._fire(arn, timer_id)
