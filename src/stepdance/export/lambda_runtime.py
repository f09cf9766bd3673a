"""What the exported Lambda functions run: the same service code as the designs run locally, called the way
AWS calls a function. The generated handler modules (``functions/*.py``) are one call into here each.

======================  ================================================================================
entry                   what it does
======================  ================================================================================
``run_task(resource)``  a Step Functions task: the handler :class:`~stepdance.order.designs.tasks.SagaTasks`
                        serves for ``resource``; a task failure is raised as an exception whose class is
                        named after the ASL error (``PaymentDeclined``), which is what Step Functions
                        matches Retry and Catch against (Lambda reports the class name as ``errorType``)
``react(service)``      an EventBridge target of the choreography: the service's
                        :class:`~stepdance.order.designs.choreography_participant.Participant` handles the
                        event (inbox, reaction and outbox in one transaction), then the outbox is relayed
                        to EventBridge with PutEvents
``place_order``         the choreography's entry: the order pending in the orders view and its
                        ``OrderPlaced`` in the outbox, then relayed
``notify``              the hybrid design's notification target: one message per outcome event
======================  ================================================================================

A container keeps its services (and their connection pools) between invocations. Every function of a
design must share one database server (``STEPDANCE_SERVICES``): the exactly-once effects rest on it.

The relay runs in the invocation that wrote the rows; rows a failed invocation left behind go with the next
invocation of a function of that service. EventBridge gives each put event an id of its own, so an event
relayed twice (the function died between PutEvents and deleting the row) is two events to the inbox; the
services key their effects by order, so it still has one effect.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from stepdance.bus import Bus, DeliveryContext, Inbox, TargetFailure
from stepdance.engine import TaskFailure
from stepdance.order.channels import open_channel
from stepdance.order.designs import choreography_subscriptions as chor
from stepdance.order.designs import hybrid
from stepdance.order.designs.base import SERVICE_NAMES, Service, Services, open_service
from stepdance.order.designs.choreography_participant import Participant, place
from stepdance.order.designs.commits import GroupCommit
from stepdance.order.designs.tasks import Handler, SagaTasks, ServiceCalls
from stepdance.order.inventory import Inventory
from stepdance.order.model import Order, OrderError
from stepdance.order.notification import Notification
from stepdance.order.orders import Orders
from stepdance.order.payment import Payment
from stepdance.settings import Settings

ENV_SERVICES = "STEPDANCE_SERVICES"
ENV_DATA_DIR = "STEPDANCE_DATA_DIR"
ENV_TRACING = "STEPDANCE_TRACING"
ENV_EVENT_BUS = "STEPDANCE_EVENT_BUS"
ENV_CHANNEL = "STEPDANCE_NOTIFICATION_CHANNEL"
LAMBDA_DATA_DIR = "/tmp/stepdance"  # the only writable directory in Lambda
PUT_EVENTS_MAX = 10  # entries per PutEvents call
_PUT_EVENTS_KEYS = ("Source", "DetailType", "Detail", "EventBusName", "Resources")


class TaskError(Exception):
    """A task's failure; its subclasses are named after the ASL error (see :func:`error_named`)."""


@functools.cache
def error_named(name: str) -> type[TaskError]:
    """An exception class called ``name``: Lambda reports an error's class name, and Step Functions and the
    function's logs show that name."""
    return type(name, (TaskError,), {"__module__": __name__})


class Runtime:
    """The services of one Lambda container, opened on first use. ``events``: a boto3/botocore ``events``
    client (made from the environment when None)."""

    def __init__(
        self,
        services_url: str,
        data_dir: Path,
        *,
        event_bus: str = "",
        channel: str = "",
        events: Any = None,
    ) -> None:
        if not services_url:
            raise RuntimeError(
                f"{ENV_SERVICES} is not set: every function of a design must share one database "
                "(postgresql://...), or each Lambda container would keep orders of its own"
            )
        self.services_url = services_url
        self.data_dir = data_dir
        self.event_bus = event_bus
        self.channel = channel
        self._events = events
        self._services: dict[str, Service] = {}
        self._tasks: dict[str, Handler] | None = None
        self._participants: dict[str, Participant] = {}
        self._inbox: Inbox | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runtime:
        settings = Settings.from_env(env)
        return cls(
            settings.services or "",
            settings.data_dir,
            event_bus=env.get(ENV_EVENT_BUS, ""),
            channel=env.get(ENV_CHANNEL, ""),
        )

    def run_task(self, resource: str, payload: Any) -> Any:
        handler = self._task_handlers().get(resource)
        if handler is None:
            raise error_named("UnknownResource")(f"this stepdance serves no task resource {resource!r}")

        async def call() -> Any:  # asyncio.run takes a coroutine; a handler returns any awaitable
            return await handler(payload)

        try:
            return asyncio.run(call())
        except TaskFailure as failure:
            raise error_named(failure.error)(failure.cause or failure.error) from None

    def react(self, service: str, event: dict[str, Any]) -> None:
        participant = self._participant(service)
        context = DeliveryContext(
            event=event,
            bus=participant.event_bus,
            rule=chor.rule_name(service),
            target_id=service,
            attempt=1,  # Lambda does not say which attempt this is
        )
        outcome = participant.handle([(event, context)])[0]
        self._relay(participant)  # also when the reaction failed: rows an earlier invocation left
        if isinstance(outcome, TargetFailure):
            raise error_named(outcome.code)(outcome.message or outcome.code)
        if outcome is not None:
            raise outcome

    def place_order(self, payload: Any) -> dict[str, Any] | None:
        participant = self._participant("orders")
        orders, outbox = participant.target, participant.outbox
        assert isinstance(orders, Orders) and outbox is not None
        order = Order.from_json(payload)
        place(orders, outbox, [(order, None)], participant.event_bus)
        self._relay(participant)
        return orders.get(order.order_id)

    def notify(self, event: dict[str, Any]) -> None:
        # as Hybrid.notify does, without the engine and bus that class also holds
        notification = self._service("notification")
        assert isinstance(notification, Notification)
        if self._inbox is None:
            self._inbox = Inbox(notification.engine, consumer=hybrid.CONSUMER)
        detail = event.get("detail") or {}
        try:
            with self._inbox.once(event) as tx:
                if tx is not None:
                    kind = hybrid.notice_kind(event)
                    notification.send(tx, detail["orderId"], kind, detail["email"])
        except OrderError as error:
            raise error_named(error.code)(error.cause) from None
        except (KeyError, ValueError) as error:
            raise error_named("MalformedOutcome")(f"{type(error).__name__}: {error}") from None

    def close(self) -> None:
        """Let the databases go (a container just ends; tests call this)."""
        for service in self._services.values():
            service.engine.dispose()
        self._services.clear()
        self._participants.clear()
        self._tasks, self._inbox = None, None

    def _service(self, name: str) -> Service:
        found = self._services.get(name)
        if found is None:
            channel = open_channel(self.channel or None, self.data_dir) if name == "notification" else None
            found = open_service(name, self.services_url, self.data_dir, channel=channel)
            self._services[name] = found
        return found

    def _task_handlers(self) -> dict[str, Handler]:
        if self._tasks is None:
            opened = {name: self._service(name) for name in SERVICE_NAMES}
            payment, inventory = opened["payment"], opened["inventory"]
            notification, orders = opened["notification"], opened["orders"]
            assert isinstance(payment, Payment) and isinstance(inventory, Inventory)
            assert isinstance(notification, Notification) and isinstance(orders, Orders)
            services = Services(payment, inventory, notification, orders)
            # one invocation at a time per container: nothing to group, each call commits on its own
            calls = ServiceCalls(
                **{name: GroupCommit(opened[name].engine, group=False) for name in SERVICE_NAMES}
            )
            self._tasks = SagaTasks(services, calls).resources()
        return self._tasks

    def _participant(self, service: str) -> Participant:
        found = self._participants.get(service)
        if found is None:
            if not self.event_bus:
                raise RuntimeError(f"{ENV_EVENT_BUS} is not set: the {service} service cannot publish")
            # The participant needs of the bus only what its outbox relay calls, publish_entries; the
            # rest of Bus (consumers, catalog) is EventBridge's job here.
            bus = cast(Bus, PutEvents(self))
            found = Participant(bus, service, self._service(service), event_bus=self.event_bus)
            self._participants[service] = found
        return found

    def _relay(self, participant: Participant) -> None:
        relay = participant.relay
        if relay is None:
            return

        async def drain() -> None:
            while await relay.relay_once():
                pass

        asyncio.run(drain())

    def events_client(self) -> Any:
        if self._events is None:
            import botocore.session

            self._events = botocore.session.get_session().create_client("events")
        return self._events


class PutEvents:
    """The outbox relay's view of a bus (``publish_entries``), answered by EventBridge's PutEvents."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def publish_entries(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
        headers: Sequence[Mapping[str, str]] | None = None,
        from_outbox: bool = False,
    ) -> dict[str, Any]:
        client = self.runtime.events_client()
        answers: list[dict[str, Any]] = []
        for start in range(0, len(entries), PUT_EVENTS_MAX):
            chunk = [aws_entry(e) for e in entries[start : start + PUT_EVENTS_MAX]]
            answer = await asyncio.to_thread(client.put_events, Entries=chunk)
            answers += answer["Entries"]
        return {"Entries": answers}


def aws_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox row's entry as PutEvents takes it: its time a datetime, stepdance's own keys left out."""
    found = {key: entry[key] for key in _PUT_EVENTS_KEYS if key in entry}
    if entry.get("Time"):
        found["Time"] = datetime.fromisoformat(str(entry["Time"]).replace("Z", "+00:00"))
    return found


@functools.cache
def _runtime() -> Runtime:
    return Runtime.from_env(os.environ)


def run_task(resource: str, event: Any) -> Any:
    """The result of the Step Functions task ``resource`` for its input ``event``."""
    return _runtime().run_task(resource, event)


def react(service: str, event: dict[str, Any]) -> None:
    """``service``'s reaction to an event EventBridge delivered."""
    _runtime().react(service, event)


def place_order(event: Any) -> dict[str, Any] | None:
    """Place the order ``event`` is (``Order.to_json()``); its record in the orders view."""
    return _runtime().place_order(event)


def notify(event: dict[str, Any]) -> None:
    """The notification a hybrid outcome event asks for."""
    _runtime().notify(event)


def reset() -> None:
    """Forget this process's runtime, letting its databases go (a new environment is read next time)."""
    if _runtime.cache_info().currsize:
        _runtime().close()
    _runtime.cache_clear()
