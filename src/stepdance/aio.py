"""Small asyncio helpers shared by the engine and the bus."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float | None) -> bool:
    """Whether ``event`` was set within ``seconds`` (``None``: however long it takes). ``asyncio.timeout``
    rather than ``asyncio.wait_for``, which may swallow a cancellation that arrives as the event is set
    (Python 3.11)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
