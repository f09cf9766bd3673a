"""Private broker instances for the restart tests: started by the test on a free port with a data directory of
its own, killed (SIGKILL, like a crash) and started again on the same port and directory. The shared
servers are never touched.

RabbitMQ runs as a second node (its own node name, ports, Mnesia and log directories, config and cookie);
starting it takes several seconds each time. It is stopped with SIGTERM (a clean shutdown), not SIGKILL:
RabbitMQ 3.10.8 killed within seconds of declaring a quorum queue brought that queue back without a leader
(consumers time out), although its confirmed messages were on disk; killed ten seconds after the
declaration, it kept them all. That is the broker's own recovery of a just-created queue, not something a
transport can change, and it would make this test measure the broker's timing rather than the transport.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stepdance.faults.servers import accepts, free_port, stop_group

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # the script itself, not Debian's su wrapper


@dataclass
class PrivateServer:
    name: str
    url: str
    port: int
    command: list[str]
    directory: Path
    env: dict[str, str] = field(default_factory=dict)
    start_seconds: float = 10.0
    stop_signal: signal.Signals = signal.SIGKILL  # a crash, unless the server cannot take one (RabbitMQ)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.directory,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill takes its helpers too
            )
        deadline = time.monotonic() + self.start_seconds
        while not accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"private {self.name} did not start; see {self.directory / 'server.log'}")
            time.sleep(0.05)

    def kill(self) -> None:
        stop_group(self.process, self.stop_signal, self.port)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


def _need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        pytest.skip(f"{program} not installed: cannot start a private server to restart")
    return found


def nats_server(directory: Path) -> PrivateServer:
    port = free_port()
    command = [_need("nats-server"), "-js", "-sd", str(directory / "js"), "-a", "127.0.0.1", "-p", str(port)]
    return PrivateServer("NATS", f"nats://127.0.0.1:{port}", port, command, directory)


def redis_server(directory: Path) -> PrivateServer:
    port = free_port()
    command = [
        _need("redis-server"),
        *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""),
        *("--appendonly", "yes", "--appendfsync", "always"),
    ]
    return PrivateServer("Redis", f"redis://127.0.0.1:{port}/0", port, command, directory)


def rabbitmq_server(directory: Path) -> PrivateServer:
    if not RABBITMQ_SERVER.exists():
        pytest.skip(f"{RABBITMQ_SERVER} not installed: cannot start a private RabbitMQ node to restart")
    port, dist_port = free_port(), free_port()
    (directory / "rabbitmq.conf").write_text(
        f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"
    )
    (directory / "enabled_plugins").write_text("[].\n")
    (directory / "rabbitmq-env.conf").write_text("")
    env = {
        "HOME": str(directory),  # its own Erlang cookie
        "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
        "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_NODENAME": f"sdtest{port}@localhost",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
        "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_PID_FILE": str(directory / "rabbitmq.pid"),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
    }
    url = f"amqp://guest:guest@127.0.0.1:{port}/"
    command = [str(RABBITMQ_SERVER)]
    return PrivateServer("RabbitMQ", url, port, command, directory, env, 40, signal.SIGTERM)
