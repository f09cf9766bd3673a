"""A private broker for the scenarios that restart it: a NATS JetStream server of the run's own, on a free
port with its own storage directory, killed (SIGKILL, a crash) and started again on the same port and
directory. The shared servers the designs may otherwise use are never touched.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 15.0


class ServerUnavailable(RuntimeError):
    """The private server cannot run here (its program is not installed, or it did not start)."""


def stop_group(process: subprocess.Popen[bytes] | None, how: signal.Signals, port: int) -> None:
    """Send ``how`` to the server's process group (it was started in a session of its own, so its helpers
    go too), wait for it, then for its port to close: a helper on its way out may still hold it."""
    if process is not None and process.poll() is None:
        os.killpg(process.pid, how)
        process.wait(30)
    deadline = time.monotonic() + 10
    while port and accepts(port) and time.monotonic() < deadline:
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@dataclass
class PrivateNats:
    """``nats-server -js`` on 127.0.0.1, storing under ``directory``."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    killed_at: float | None = None  # epoch seconds of the last outage
    back_at: float | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        program = shutil.which("nats-server")
        if program is None:
            raise ServerUnavailable(
                "nats-server is not installed: a broker restart needs a private NATS server"
            )
        self.port = self.port or free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [program, "-js", "-sd", str(self.directory / "js"), "-a", "127.0.0.1", "-p", str(self.port)]
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while not accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise ServerUnavailable(
                    f"the private NATS server did not start; see {self.directory / 'server.log'}"
                )
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash: what it confirmed is on disk, the rest is gone."""
        stop_group(self.process, signal.SIGKILL, self.port)
        self.process = None

    async def outage(self, start: float, end: float) -> None:
        """Down from ``start`` to ``end`` seconds from now."""
        began = time.monotonic()
        await asyncio.sleep(start)
        await asyncio.to_thread(self.kill)
        self.killed_at = time.time()
        await asyncio.sleep(max(0.0, end - (time.monotonic() - began)))
        await asyncio.to_thread(self.start)
        self.back_at = time.time()
