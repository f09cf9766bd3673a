"""The timer loop fires each timer at its due time, earliest first, and an earlier timer wakes it up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from stepdance.engine.timers import TimerWheel

Fired = asyncio.Queue[tuple[str, str, float]]


@pytest.fixture
async def wheel() -> AsyncIterator[tuple[TimerWheel, Fired]]:
    fired: Fired = asyncio.Queue()
    wheel = TimerWheel(lambda arn, timer: fired.put_nowait((arn, timer, time.time())))
    loop = asyncio.create_task(wheel.run())
    yield wheel, fired
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop


async def next_fired(fired: Fired) -> tuple[str, str, float]:
    return await asyncio.wait_for(fired.get(), 5)


async def test_timers_fire_in_due_order_and_cancelled_ones_do_not(wheel: tuple[TimerWheel, Fired]) -> None:
    timers, fired = wheel
    now = time.time()
    timers.set("e1", "late", now + 0.15)
    timers.set("e1", "early", now + 0.05)
    timers.set("e2", "gone", now + 0.08)
    timers.set("e3", "forgotten", now + 0.08)
    timers.cancel("e2", "gone")
    timers.forget("e3")
    assert (await next_fired(fired))[:2] == ("e1", "early")
    assert (await next_fired(fired))[:2] == ("e1", "late")
    assert fired.empty() and len(timers) == 0


async def test_an_earlier_timer_wakes_a_sleeping_loop_and_a_reset_timer_fires_once(
    wheel: tuple[TimerWheel, Fired],
) -> None:
    timers, fired = wheel
    began = time.time()
    timers.set("e", "far", began + 30)
    await asyncio.sleep(0.02)  # let the loop go to sleep until "far"
    timers.set("e", "near", began + 0.05)
    timers.set("e", "moved", began + 20)
    timers.set("e", "moved", began + 0.1)
    _, first, at = await next_fired(fired)
    _, second, _ = await next_fired(fired)
    assert (first, second) == ("near", "moved")
    assert at - began < 1.0
    assert len(timers) == 1  # "far" is still armed
