"""The orchestrated design: the durable engine runs the saga's ASL definition, one execution per order.

::

    design = Orchestrated(services, open_store(settings.store), settings)   # a Store: the design runs an
    await design.start()                                                     # engine of its own
    await design.place(order)          # pending in the orders view, execution "<order id>" started
    await design.stop()

The definition (``saga.asl.json``, shipped in the package) calls the services through the task resources
of :mod:`.tasks`: charge (retried on ServiceUnavailable; a decline cancels without reserving), reserve
(retried; a stock-out refunds), then complete the order in the orders view and notify; a notification that
still fails after its retries is caught and the order stays completed. Every path that does not complete
compensates what may have happened (release, refund: both no-ops when nothing was held) and cancels.

Given an :class:`~stepdance.engine.Engine` rather than a store, the design uses it as it is (started and
stopped by the caller, shared with other designs if need be).
"""

from __future__ import annotations

import contextlib
import json
from importlib import resources

from stepdance.engine import Client, Engine
from stepdance.engine.arns import check_name, make
from stepdance.engine.errors import ExecutionAlreadyExists, InvalidName, StateMachineAlreadyExists
from stepdance.order import tracing
from stepdance.order.designs.base import Services
from stepdance.order.designs.tasks import SagaTasks
from stepdance.order.model import InvalidOrder, Order
from stepdance.settings import Settings
from stepdance.store import Store

ROLE = "arn:aws:iam::123456789012:role/stepdance-order-saga"


def definition(name: str) -> str:
    """The text of the ASL definition ``name`` shipped in :mod:`stepdance.order`."""
    return resources.files("stepdance.order").joinpath(name).read_text(encoding="utf-8")


class Orchestrated:
    """The saga as one state machine on the engine."""

    name = "orchestrated"
    definition_file = "saga.asl.json"
    machine_name = "stepdance-order-saga"

    def __init__(self, services: Services, engine: Engine | Store, settings: Settings | None = None) -> None:
        self.services = services
        self.owns_engine = not isinstance(engine, Engine)
        self.engine = Engine(engine, settings) if not isinstance(engine, Engine) else engine
        self.client = Client(self.engine)
        self.definition = definition(self.definition_file)
        self.tasks = SagaTasks(services)
        self.machine_arn = ""

    async def start(self) -> None:
        if self.owns_engine:
            await self.engine.start()
        self.tasks.register(self.engine)
        self.machine_arn = await self._machine()

    async def _machine(self) -> str:
        """The state machine's ARN, created, or updated when it runs an older definition."""
        try:
            created = await self.client.create_state_machine(
                name=self.machine_name, definition=self.definition, roleArn=ROLE
            )
        except StateMachineAlreadyExists:
            arn = make(self.engine.settings, "stateMachine", self.machine_name)
            await self.client.update_state_machine(stateMachineArn=arn, definition=self.definition)
            return arn
        return str(created["stateMachineArn"])

    async def place(self, order: Order) -> None:
        """Record the order pending, then start its execution, named after the order. Placing an order
        again starts nothing new, or starts the execution a crash kept from starting."""
        try:
            check_name(order.order_id)
        except InvalidName:
            raise InvalidOrder(
                f"order id {order.order_id!r} cannot name an execution (1-80 characters, no spaces, "
                "brackets, wildcards or punctuation such as : / , ;)"
            ) from None
        with tracing.placing(order.order_id, self.name):
            record = await self.tasks.place(order, self.name)
            # placedAt tells the definition the view has the order (the intake is for orders started from
            # outside); placing again gives the same input, so AWS's idempotent start applies
            started = {**order.to_json(), "placedAt": record["placedAt"]}
            with contextlib.suppress(ExecutionAlreadyExists):  # placed before: its execution carries it on
                await self.client.start_execution(
                    stateMachineArn=self.machine_arn,
                    name=order.order_id,
                    input=json.dumps(started, separators=(",", ":")),
                )

    async def stop(self) -> None:
        """Stop the engine if the design made it; executions still running go on at the next start."""
        if self.owns_engine:
            await self.engine.stop()
        self.tasks.close()
