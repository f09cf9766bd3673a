"""What each design deploys to AWS, read from the design itself: its ASL definition (the task resources it
calls, the buses it publishes to) and its subscriptions (rule, event pattern, target, retry budget).

::

    plan("hybrid").functions        # one Lambda function per service operation the design calls
    plan("hybrid").subscriptions    # one EventBridge rule + target per subscriber
    plan("hybrid").definition       # the shipped ASL, as parsed JSON

Nothing here is copied from the designs: change ``saga.asl.json`` or ``choreography_subscriptions`` and the
plan (and so the template) follows. A definition calling what the export cannot deploy (a resource that is
neither ``stepdance:<service>.<operation>`` nor EventBridge's PutEvents) is a :class:`PlanError`, not a
template that fails in CloudFormation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from stepdance.bus import RetryPolicy
from stepdance.order.designs import choreography_subscriptions as chor
from stepdance.order.designs import hybrid
from stepdance.order.designs.orchestrated import Orchestrated, definition

DESIGNS = ("orchestrated", "choreographed", "hybrid")
PUT_EVENTS = "arn:aws:states:::events:putEvents"
_TASK = re.compile(r"stepdance:([a-z_]+)\.([a-z_]+)")


class PlanError(ValueError):
    """The design uses something the export does not know how to deploy."""


@dataclass(frozen=True, slots=True)
class Function:
    """One Lambda function: ``entry`` (a function of :mod:`stepdance.export.lambda_runtime`) called with
    ``argument`` (a task resource or a service name; None: the event alone)."""

    name: str  # PascalCase; the logical id is ``<name>Function``
    module: str  # the generated handler module: ``<module>.handler``
    entry: str
    argument: str | None
    service: str  # the stepdance service whose code it runs
    summary: str
    publishes: bool = False  # puts events on the design's bus
    sends: bool = False  # sends notifications: needs the channel

    @property
    def logical_id(self) -> str:
        return f"{self.name}Function"


@dataclass(frozen=True, slots=True)
class Subscription:
    """An EventBridge rule with one target, a function, and that target's dead-letter queue."""

    rule: str
    pattern: dict[str, Any]
    target_id: str
    function: str  # a Function's name
    retry: RetryPolicy
    description: str

    @property
    def logical_id(self) -> str:
        return pascal(self.rule)


@dataclass(frozen=True, slots=True)
class Plan:
    design: str
    description: str
    functions: tuple[Function, ...]
    subscriptions: tuple[Subscription, ...] = ()
    bus: str | None = None
    machine_name: str | None = None
    definition: dict[str, Any] | None = None
    # task resource -> the Function serving it (the definition's Resource becomes its ARN)
    resources: tuple[tuple[str, str], ...] = ()

    def function(self, name: str) -> Function:
        for function in self.functions:
            if function.name == name:
                return function
        raise KeyError(name)


def plan(design: str) -> Plan:
    """The plan of ``design`` (one of :data:`DESIGNS`)."""
    if design == "orchestrated":
        return _orchestrated()
    if design == "choreographed":
        return _choreographed()
    if design == "hybrid":
        return _hybrid()
    raise PlanError(f"unknown design {design!r} (one of {', '.join(DESIGNS)})")


def pascal(text: str) -> str:
    """``choreographed-payment`` -> ``ChoreographedPayment``: a CloudFormation logical id's part."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _orchestrated() -> Plan:
    machine = _definition(Orchestrated.definition_file)
    functions, resources = _task_functions(machine, bus=None)
    return Plan(
        design="orchestrated",
        description="stepdance order saga, orchestrated: a Step Functions state machine calls the services",
        functions=functions,
        machine_name=Orchestrated.machine_name,
        definition=machine,
        resources=resources,
    )


def _hybrid() -> Plan:
    machine = _definition(hybrid.Hybrid.definition_file)
    functions, resources = _task_functions(machine, bus=hybrid.BUS)
    notify = Function(
        name=pascal(hybrid.HANDLER),
        module=hybrid.HANDLER.replace("-", "_"),
        entry="notify",
        argument=None,
        service="notification",
        summary=f"the notification service, reacting to {hybrid.COMPLETED} and {hybrid.CANCELLED}",
        sends=True,
    )
    subscription = Subscription(
        rule=hybrid.RULE,
        pattern=hybrid.PATTERN,
        target_id="notification",
        function=notify.name,
        retry=RetryPolicy(maximum_retry_attempts=hybrid.NOTIFY_RETRY_ATTEMPTS),
        description="the decided order, told to the customer",
    )
    return Plan(
        design="hybrid",
        description=(
            "stepdance order saga, hybrid: a state machine charges and reserves, publishes the outcome on "
            "EventBridge; notification reacts"
        ),
        functions=(*functions, notify),
        subscriptions=(subscription,),
        bus=hybrid.BUS,
        machine_name=hybrid.Hybrid.machine_name,
        definition=machine,
        resources=resources,
    )


def _choreographed() -> Plan:
    functions: list[Function] = []
    subscriptions: list[Subscription] = []
    for service in chor.PARTICIPANTS:
        if not chor.reactions(service):
            continue
        name = chor.handler_name(service)
        reacts_to = ", ".join(r.detail_type for r in chor.reactions(service))
        function = Function(
            name=pascal(name),
            module=name.replace("-", "_"),
            entry="react",
            argument=service,
            service=service,
            summary=f"the {service} service, reacting to {reacts_to}",
            publishes=bool(chor.PUBLISHES[service]),
            sends=service == "notification",
        )
        functions.append(function)
        subscriptions.append(
            Subscription(
                rule=chor.rule_name(service),
                pattern=chor.pattern(service),
                target_id=service,
                function=function.name,
                retry=RetryPolicy(maximum_retry_attempts=chor.RETRY_ATTEMPTS[service]),
                description=f"what the {service} service reacts to",
            )
        )
    # Orders enter the choreography as OrderPlaced, which the orders service publishes once it recorded
    # the order pending: without this entry point nothing would start a flow.
    functions.append(
        Function(
            name="OrdersPlace",
            module="orders_place",
            entry="place_order",
            argument=None,
            service="orders",
            summary=f"the orders service, taking an order and publishing {chor.ORDER_PLACED}",
            publishes=True,
        )
    )
    return Plan(
        design="choreographed",
        description="stepdance order saga, choreographed: the services react to each other's events",
        functions=tuple(functions),
        subscriptions=tuple(subscriptions),
        bus=chor.DEFAULT_EVENT_BUS,
    )


def _definition(name: str) -> dict[str, Any]:
    parsed = json.loads(definition(name))
    if not isinstance(parsed, dict):
        raise PlanError(f"{name} is not a JSON object")
    return parsed


def _task_functions(
    machine: dict[str, Any], *, bus: str | None
) -> tuple[tuple[Function, ...], tuple[tuple[str, str], ...]]:
    """One function per ``stepdance:`` task resource of ``machine``, in order of first use; and the
    resources each serves. PutEvents tasks must publish to ``bus``, which the plan creates."""
    functions: dict[str, Function] = {}
    for state_name, state in task_states(machine):
        resource = state.get("Resource")
        if resource == PUT_EVENTS:
            _check_put_events(state_name, state, bus)
            continue
        found = _TASK.fullmatch(resource) if isinstance(resource, str) else None
        if not isinstance(resource, str) or found is None:
            raise PlanError(
                f"state {state_name}: the export cannot deploy the task resource {resource!r} "
                "(it knows stepdance:<service>.<operation> and events:putEvents)"
            )
        if resource not in functions:
            service, operation = found.groups()
            functions[resource] = Function(
                name=pascal(f"{service} {operation}"),
                module=f"{service}_{operation}",
                entry="run_task",
                argument=resource,
                service=service,
                summary=f"the ASL task resource {resource}",
                sends=service == "notification",
            )
    return tuple(functions.values()), tuple((r, f.name) for r, f in functions.items())


def _check_put_events(state_name: str, state: dict[str, Any], bus: str | None) -> None:
    entries = (state.get("Parameters") or {}).get("Entries") or []
    for entry in entries:
        named = entry.get("EventBusName")
        if named != bus:
            raise PlanError(
                f"state {state_name} publishes to the event bus {named!r}, which the export does not create"
            )


def task_states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Task state of ``machine``, those of Parallel branches and Map iterations included."""
    for name, state in machine.get("States", {}).items():
        if state.get("Type") == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from task_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from task_states(state[key])
