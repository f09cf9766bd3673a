"""Private servers for the scenarios that restart one: a NATS JetStream broker or a PostgreSQL database of
the run's own, on a free port with its own storage directory, killed (SIGKILL of its whole process group, a
crash) and started again on the same port and directory. The shared servers the designs may otherwise use
are never touched.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 30.0
POSTGRES_USER = "postgres"  # who runs the private PostgreSQL when we are root (it refuses to run as root)
POSTGRES_DIRS = "/usr/lib/postgresql/*/bin"  # where Debian's packages put initdb and postgres (off the PATH)


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
class PrivateServer:
    """What both private servers share: start in a session of their own, wait until ready, kill, and an
    outage (killed at one time, started again at another)."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    killed_at: float | None = None  # epoch seconds of the last outage
    back_at: float | None = None

    what = "server"

    @property
    def url(self) -> str:
        """How clients reach it."""
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return accepts(self.port)

    def user(self) -> str | None:
        """Whom the server runs as (None: as us)."""
        return None

    def prepare(self) -> None:
        """Before the first start: make the storage directory."""
        self.directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        if self.process is None and self.killed_at is None:
            self.prepare()
        self.port = self.port or free_port()
        command = self.command()
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=self.user()
            )
        deadline = time.monotonic() + START_SECONDS
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise ServerUnavailable(
                    f"the private {self.what} did not start; see {self.directory / 'server.log'}"
                )
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash: what it confirmed is on disk, the rest is gone."""
        stop_group(self.process, signal.SIGKILL, self.port)
        self.process = None

    def remove(self) -> None:
        """Killed, its storage kept (the run's data directory holds it, for a person to look at)."""
        self.kill()

    async def outage(self, start: float, end: float) -> None:
        """Down from ``start`` to ``end`` seconds from now."""
        began = time.monotonic()
        await asyncio.sleep(start)
        await asyncio.to_thread(self.kill)
        self.killed_at = time.time()
        await asyncio.sleep(max(0.0, end - (time.monotonic() - began)))
        await asyncio.to_thread(self.start)
        self.back_at = time.time()


@dataclass
class PrivateNats(PrivateServer):
    """``nats-server -js`` on 127.0.0.1, storing under ``directory``."""

    what = "NATS server"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        program = shutil.which("nats-server")
        if program is None:
            raise ServerUnavailable(
                "nats-server is not installed: a broker restart needs a private NATS server"
            )
        return [program, "-js", "-sd", str(self.directory / "js"), "-a", "127.0.0.1", "-p", str(self.port)]


@dataclass
class PrivatePostgres(PrivateServer):
    """A PostgreSQL cluster of its own (``initdb``, trust authentication on 127.0.0.1), in a temporary
    directory owned by whoever runs it, removed by :meth:`remove`. PostgreSQL refuses to run as root: as
    root, it runs as the ``postgres`` user. A SIGKILL of the postmaster and its backends is a crash it
    recovers from at the next start by replaying its write-ahead log, as after a power cut on a disk that
    honours fsync (fsync itself is off: the machine does not crash, so the page cache survives)."""

    what = "PostgreSQL server"

    @property
    def url(self) -> str:
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def user(self) -> str | None:
        return POSTGRES_USER if os.geteuid() == 0 else None

    def prepare(self) -> None:
        initdb = _postgres_program("initdb")
        owner = self.user()
        if owner is not None:
            try:
                account = pwd.getpwnam(owner)
            except KeyError:
                raise ServerUnavailable(
                    f"running as root and there is no {owner!r} user to run a private PostgreSQL as"
                ) from None
        # a directory of its own where the postgres user can reach it (the data directory may not be)
        self.directory = Path(tempfile.mkdtemp(prefix="stepdance-pg-"))
        if owner is not None:
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        done = subprocess.run(
            [
                initdb,
                "-D",
                str(self.directory / "data"),
                "-A",
                "trust",
                "-U",
                POSTGRES_USER,
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            user=owner,
            check=False,
        )
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {done.stderr.decode(errors='replace').strip()}")

    def command(self) -> list[str]:
        return [
            _postgres_program("postgres"),
            "-D",
            str(self.directory / "data"),
            "-p",
            str(self.port),
            "-k",
            str(self.directory),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=300",
        ]

    def ready(self) -> bool:
        """Answering queries (the port opens while it still replays its log)."""
        if not accepts(self.port):
            return False
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def remove(self) -> None:
        """Killed and its temporary directory removed (it is not in the run's data directory)."""
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def _postgres_program(name: str) -> str:
    """``initdb`` or ``postgres``: on the PATH, or in Debian's versioned directory."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"{POSTGRES_DIRS}/{name}"), reverse=True)), None)
    if found is None:
        raise ServerUnavailable(f"{name} is not installed: a database restart needs a private PostgreSQL")
    return found
