"""Small asyncio helpers shared by the engine and the bus."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


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


async def in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``asyncio.to_thread``, except that a caller cancelled while the thread runs waits for it before the
    cancellation goes on. A component being stopped (a consumer's handler, a relay's read) then leaves no
    thread behind still holding a connection of a pool its owner disposes next: such a connection went back
    to the discarded pool and was garbage-collected open."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    future = loop.run_in_executor(None, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            try:
                await asyncio.shield(future)
            except asyncio.CancelledError:
                continue  # cancelled again: still wait for the thread
            except Exception:
                break  # its failure does not matter any more: the caller is cancelled
        raise
