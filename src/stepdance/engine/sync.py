"""The client for callers without an event loop: the same calls, blocking.

The engine runs on a private loop in a background thread; each call is the async client's method run
there. Nothing is duplicated: ``SyncClient(engine).start_execution(...)`` is ``Client.start_execution``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from stepdance.engine.client import Client
from stepdance.engine.runtime import Engine

T = TypeVar("T")


class SyncClient:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stepdance-engine", daemon=True)
        self._thread.start()
        self._client = Client(engine)
        self.run(engine.start())

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the engine's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> dict[str, Any]:
            result: dict[str, Any] = self.run(method(**kwargs))
            return result

        call.__name__ = name
        return call

    def close(self) -> None:
        self.run(self.engine.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
