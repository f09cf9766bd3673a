"""Coupling and change impact, computed from the designs' definitions (the ASL files, the choreography's
subscriptions and what each service publishes), not asserted:

- *what each component must know*: the other components whose names or contracts appear in what it runs
  (an engine's definition names every task's service; a choreographed service's rule names the events it
  reacts to, hence their publishers);
- *what changes to add a step* (a fraud check between the order and the payment): the artifacts to edit
  and the teams that own them, found by rewiring the definitions the way each style must.

Pure: definitions in, facts out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from stepdance.diagrams import designs
from stepdance.diagrams.eventflow import flows
from stepdance.order.designs import choreography_subscriptions as s

_SERVICE_IN_URL = re.compile(r"/(orders|payment|inventory|notification)/")

ENGINE = "engine"
TASK_SERVICE = {
    "stepdance:payment.charge": "payment",
    "stepdance:payment.refund": "payment",
    "stepdance:inventory.reserve": "inventory",
    "stepdance:inventory.release": "inventory",
    "stepdance:notification.send": "notification",
    "stepdance:orders.complete": "orders",
    "stepdance:orders.cancel": "orders",
    "arn:aws:states:::events:putEvents": "bus",
}


@dataclass(frozen=True)
class Coupling:
    design: str
    knows: Mapping[str, frozenset[str]]  # component -> the components it must know
    artifacts: int  # definitions a reader opens to learn the order of the steps
    change: tuple[str, ...]  # what is edited to add the fraud check
    teams: frozenset[str]  # whose artifacts those are

    @property
    def links(self) -> int:
        """Dependencies between components: one per (component, component it knows)."""
        return sum(len(v) for v in self.knows.values())

    @property
    def widest(self) -> tuple[str, int]:
        """The component that knows the most, and how many."""
        name = max(self.knows, key=lambda k: (len(self.knows[k]), k))
        return name, len(self.knows[name])


def task_services(asl: Mapping[str, Any]) -> frozenset[str]:
    """The services an ASL definition's tasks call (``bus`` for a putEvents task)."""
    found: set[str] = set()
    for state in asl.get("States", {}).values():
        resource = state.get("Resource")
        if resource in TASK_SERVICE:
            found.add(TASK_SERVICE[resource])
        for branch in state.get("Branches", []):
            found |= task_services(branch)
    return frozenset(found)


def http_services(workflows_yaml: str) -> frozenset[str]:
    """The services a Workflows definition calls over HTTP: the service named in each ``http.*`` call's
    URL (``${services + "/payment/charge"}``), or in a subworkflow's caller's ``url`` argument."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            call, args = node.get("call"), node.get("args")
            if isinstance(call, str) and isinstance(args, dict) and isinstance(args.get("url"), str):
                found.update(_SERVICE_IN_URL.findall(args["url"]))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(yaml.safe_load(workflows_yaml))
    return frozenset(found)


def coupling(design: str) -> Coupling:
    services = ("orders", "payment", "inventory", "notification")
    if design in designs.WORKFLOWS:
        text = designs.workflows_text(design)
        knows = {ENGINE: http_services(text)} | {s: frozenset() for s in services}
        edits = (
            f"{designs.WORKFLOWS[design]}: main's steps change (a check_fraud call first, its except "
            "going where a decline goes)",
            "the fraud service: new, called over HTTP",
        )
        return Coupling(design, knows, 1, edits, frozenset({"workflow", FRAUD}))
    if design == "orchestrated":
        knows = {ENGINE: task_services(designs.definition(design))} | {s: frozenset() for s in services}
        change, teams = _orchestrated_change(designs.definition(design), designs.ASL[design])
        return Coupling(design, knows, 1, change, teams)
    published, subscriptions = (
        designs.choreography_events() if design == "choreographed" else designs.hybrid_events()
    )
    knows_events: dict[str, set[str]] = {}
    for event, subscriber in flows(published, subscriptions):
        knows_events.setdefault(subscriber, set()).add(event.publisher)
    if design == "choreographed":
        knows = {s: frozenset(knows_events.get(s, set())) for s in services}
        change, teams = _choreographed_change()
        return Coupling(design, knows, len(subscriptions), change, teams)
    knows = {ENGINE: task_services(designs.definition(design))}
    knows |= {s: frozenset(knows_events.get(s, set())) for s in services}
    change, teams = _orchestrated_change(designs.definition(design), designs.ASL[design])
    return Coupling(design, knows, 1 + len(subscriptions), change, teams)


FRAUD = "fraud"
CLEARED, SUSPECTED = "FraudCleared", "FraudSuspected"


Change = tuple[tuple[str, ...], frozenset[str]]  # what is edited, and whose it is


def _orchestrated_change(asl: Mapping[str, Any], file: str) -> Change:
    """Insert a CheckFraud task before the first step, caught like a decline; what differs afterwards."""
    first = asl["StartAt"]
    declined = next(
        (c["Next"] for c in asl["States"][first].get("Catch", []) if "PaymentDeclined" in c["ErrorEquals"]),
        None,
    )
    changed = {
        **asl,
        "StartAt": "CheckFraud",
        "States": {
            "CheckFraud": {
                "Type": "Task",
                "Resource": "stepdance:fraud.check",
                "Next": first,
                **({"Catch": [{"ErrorEquals": [SUSPECTED], "Next": declined}]} if declined else {}),
            },
            **asl["States"],
        },
    }
    edits = (
        f"{file}: {', '.join(sorted(_diff(asl, changed)))} change (a CheckFraud state first)",
        "the fraud service: new, called as a task",
    )
    return edits, frozenset({"workflow", FRAUD})


def _choreographed_change() -> Change:
    """Put a fraud service between the order and the payment: it takes over what payment reacted to first,
    payment reacts to its clearance, and whoever reacts to a decline reacts to a suspicion too. The
    services whose rule (event pattern) differs afterwards must change."""
    before = list(s.REACTIONS)
    first = [r for r in before if r.service == "payment" and r.detail_type == s.ORDER_PLACED]
    after = [r for r in before if r not in first]
    after += [s.Reaction(FRAUD, r.source, r.detail_type, "check") for r in first]
    after += [s.Reaction("payment", s.source(FRAUD), CLEARED, r.action) for r in first]
    after += [
        s.Reaction(r.service, s.source(FRAUD), SUSPECTED, r.action)
        for r in before
        if r.detail_type == s.PAYMENT_DECLINED
    ]
    old, new = _patterns(before), _patterns(after)
    touched = sorted(service for service in old if old[service] != new[service])
    edits = tuple(f"the {service} service's rule: its event pattern changes" for service in touched)
    new_step = "the fraud service: new, with a rule on OrderPlaced, publishing FraudCleared / FraudSuspected"
    return (*edits, new_step), frozenset({*touched, FRAUD})


def _patterns(reactions: list[s.Reaction]) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for r in reactions:
        found.setdefault(r.service, {}).setdefault(r.source, []).append(r.detail_type)
    return found


def _diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return [k for k in {*a, *b} if a.get(k) != b.get(k)]
