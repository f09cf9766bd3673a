"""The order services over HTTP, in the process that runs the saga's tasks: what the Cloud Workflows saga
calls (``POST /services/<service>/<operation>``, :mod:`stepdance.api.services`).

The server listens on a free loopback port and the engine's HTTP tasks route the saga's stable host name,
:data:`SERVICES_HOST`, to it; a worker that takes executions over after a crash serves its own and routes
the same name to it, so an execution's URLs stay valid wherever it resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

from stepdance.api.services import routes
from stepdance.engine import Engine
from stepdance.order.designs.tasks import SagaTasks

SERVICES_HOST = "services.stepdance.local"
SERVICES_URL = f"http://{SERVICES_HOST}/services"  # what the saga's definition reads from SERVICES_URL

log = logging.getLogger(__name__)


class ServicesServer:
    """A loopback HTTP server for ``tasks``, routed from :data:`SERVICES_HOST` on ``engine``."""

    def __init__(self, tasks: SagaTasks, engine: Engine) -> None:
        self.tasks = tasks
        self.engine = engine
        self.port = 0
        self._server: _Quiet | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        app = Starlette(routes=routes(self.tasks.resources(), lambda request: None))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = server = _Quiet(config)
        self._serving = serving = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        listening = asyncio.ensure_future(server.listening.wait())
        await asyncio.wait([serving, listening], return_when=asyncio.FIRST_COMPLETED)
        if not server.listening.is_set():
            listening.cancel()
            serving.result()  # raises what stopped it
            raise RuntimeError("the services' HTTP server stopped while starting")
        self.engine.http.route(SERVICES_HOST, f"127.0.0.1:{self.port}")
        self.engine.workflow_env.setdefault("SERVICES_URL", SERVICES_URL)

    async def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._serving, 10)
            self._server = self._serving = None


class _Quiet(uvicorn.Server):
    """uvicorn's server without its signal handlers: the process's own (``stepdance run``'s Ctrl-C, a
    worker's SIGTERM) stay in charge of stopping; it tells when it listens (uvicorn has no hook for it)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
