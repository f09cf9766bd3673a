"""The saga orchestrated by a Cloud Workflows definition on the same engine: the fourth design.

::

    design = WorkflowsSaga(services, engine, settings)
    await design.start()         # the services over HTTP on a loopback port, the workflow created
    await design.place(order)    # pending in the orders view, execution "<order id>" started

``saga.workflows.yaml`` (shipped in the package) is the ASL saga's logic in Workflows' terms: every service
call is an HTTP request to the services (:mod:`.services_http`), Retry is ``try``/``retry`` with
back-off, Catch is ``except`` choosing the compensation. Everything else is the orchestrated design's: one
execution per order, named after it, placed idempotently, durable on the engine's store.
"""

from __future__ import annotations

from stepdance.engine import Engine
from stepdance.order.designs.base import Services
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.designs.services_http import ServicesServer
from stepdance.settings import Settings
from stepdance.store import Store


class WorkflowsSaga(Orchestrated):
    """The saga as one Cloud Workflows workflow on the engine, calling the services over HTTP."""

    name = "workflows"
    definition_file = "saga.workflows.yaml"
    machine_name = "stepdance-order-saga-workflows"

    def __init__(self, services: Services, engine: Engine | Store, settings: Settings | None = None) -> None:
        super().__init__(services, engine, settings)
        self.server = ServicesServer(self.tasks, self.engine)

    async def start(self) -> None:
        if self.owns_engine:
            await self.engine.start()
        await self.server.start()  # before the workflow is created: it reads SERVICES_URL when parsed
        self.tasks.register(self.engine)
        self.machine_arn = await self._machine()

    async def stop(self) -> None:
        # the engine first: a task it would still run must not find the server gone
        if self.owns_engine:
            await self.engine.stop()
        await self.server.stop()
        self.tasks.close()
