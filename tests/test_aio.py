"""stepdance.aio: the asyncio helpers the engine and the bus share."""

from __future__ import annotations

import asyncio
import threading

import pytest

from stepdance.aio import in_thread, wait_event

pytestmark = pytest.mark.timeout(10)


async def test_in_thread_returns_what_the_function_returns_and_raises_what_it_raises() -> None:
    assert await in_thread(lambda a, b: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        await in_thread(lambda: 1 / 0)


async def test_a_cancelled_caller_waits_for_its_thread_before_the_cancellation_goes_on() -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        release.wait(5)
        finished.set()

    task = asyncio.create_task(in_thread(work))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # cancelled, but the thread still runs: the caller waits for it
    task.cancel()  # a second cancellation does not stop the waiting either
    await asyncio.sleep(0.05)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()


async def test_wait_event_says_whether_the_event_came_in_time() -> None:
    event = asyncio.Event()
    assert not await wait_event(event, 0.01)
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5)
