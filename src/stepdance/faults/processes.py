"""A step of a design run in a process of its own (``stepdance worker --saga``, ``stepdance service NAME``),
armed to SIGKILL itself at a named crash point, and started again, unarmed, when it died: what an
orchestrator such as systemd or Kubernetes does after a crash. The scenario then checks what survived.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field

from stepdance.order.crashpoints import VARIABLE
from stepdance.settings import Settings

READY_SECONDS = 60.0


class ProcessFailed(RuntimeError):
    """The supervised process could not start, or died of something other than the planned kill."""


@dataclass
class Supervised:
    """``stepdance <args>`` on ``settings``' URLs, killed at ``crash_at`` (``point:nth``) and restarted."""

    args: list[str]
    settings: Settings
    crash_at: str
    kills: list[float] = field(default_factory=list)  # when each planned kill happened (epoch seconds)
    lines: list[str] = field(default_factory=list)  # the last lines the process wrote, for a failure
    _process: asyncio.subprocess.Process | None = None
    _watching: asyncio.Task[None] | None = None
    _stopping: bool = False
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        await self._spawn(armed=True)
        self._watching = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        self._stopping = True
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        process = self._process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)

    def _env(self, armed: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEPDANCE_")}
        env.update(self.settings.to_env())
        if armed:
            env[VARIABLE] = self.crash_at
        return env

    async def _spawn(self, *, armed: bool) -> None:
        process = self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "stepdance.cli",
            *self.args,
            env=self._env(armed),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        ready = asyncio.get_running_loop().create_future()
        self._readers.append(asyncio.create_task(self._read(process, ready)))
        try:
            await asyncio.wait_for(asyncio.shield(ready), READY_SECONDS)
        except TimeoutError:
            raise ProcessFailed(f"stepdance {' '.join(self.args)} did not start: {self._tail()}") from None
        if not ready.result():
            raise ProcessFailed(f"stepdance {' '.join(self.args)} exited at start: {self._tail()}")

    async def _read(self, process: asyncio.subprocess.Process, ready: asyncio.Future[bool]) -> None:
        """Keep its stderr drained (a full pipe would block it); say when it is ready."""
        assert process.stderr is not None
        while line := await process.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self.lines = [*self.lines[-30:], text]
            if " ready" in text and not ready.done():
                ready.set_result(True)
        if not ready.done():
            ready.set_result(False)

    async def _watch(self) -> None:
        while not self._stopped():
            assert self._process is not None
            code = await self._process.wait()
            if self._stopped():  # stop() was called while it waited
                return
            if code != -signal.SIGKILL:
                raise ProcessFailed(f"stepdance {' '.join(self.args)} died with {code}: {self._tail()}")
            self.kills.append(time.time())
            await self._spawn(armed=False)

    def _stopped(self) -> bool:
        return self._stopping

    def _tail(self) -> str:
        return " | ".join(self.lines[-5:]) or "(nothing on stderr)"
