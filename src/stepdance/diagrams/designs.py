"""The three order designs as diagrams, from the definitions they run: the state machines from their ASL
files, the event flows from the choreography's subscriptions and the hybrid's rule, and each design's
architecture (who calls, publishes to or subscribes to whom, and which database each part owns).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from stepdance.diagrams.eventflow import Published, Subscription, event_flow, flows
from stepdance.diagrams.graph import Edge, Graph, Node
from stepdance.diagrams.statemachine import state_machine
from stepdance.diagrams.workflows import workflow
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs import hybrid

DESIGNS = ("orchestrated", "choreographed", "hybrid", "workflows")
ASL = {"orchestrated": "saga.asl.json", "hybrid": "saga_hybrid.asl.json"}
WORKFLOWS = {"workflows": "saga.workflows.yaml"}  # the designs that run a Cloud Workflows definition
SERVICES = ("payment", "inventory", "notification", "orders")


def definition(design: str) -> dict[str, Any]:
    """The ASL definition the design's engine runs."""
    text = resources.files("stepdance.order").joinpath(ASL[design]).read_text(encoding="utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


def choreography_events() -> tuple[list[Published], list[Subscription]]:
    published = [
        Published(service, s.source(service), kind)
        for service, kinds in s.PUBLISHES.items()
        for kind in kinds
    ]
    subscriptions = [
        Subscription(service, s.rule_name(service), s.pattern(service)) for service in s.PARTICIPANTS
    ]
    return published, subscriptions


def hybrid_events() -> tuple[list[Published], list[Subscription]]:
    """The events the hybrid's state machine publishes (its putEvents tasks' entries) and its one rule."""
    published = []
    for state in definition("hybrid")["States"].values():
        if state.get("Resource") == "arn:aws:states:::events:putEvents":
            for entry in state["Parameters"]["Entries"]:
                published.append(Published("engine", entry["Source"], entry["DetailType"]))
    return published, [Subscription("notification", hybrid.RULE, hybrid.PATTERN)]


def workflows_text(design: str) -> str:
    """The Cloud Workflows definition (YAML text) the design's engine runs."""
    return resources.files("stepdance.order").joinpath(WORKFLOWS[design]).read_text(encoding="utf-8")


def states(design: str) -> Graph:
    """The definition the design's engine runs, drawn: its state machine, or its workflow's steps."""
    if design in WORKFLOWS:
        return workflow(workflows_text(design), f"{design}: the workflow ({WORKFLOWS[design]})")
    return state_machine(definition(design), f"{design}: the state machine ({ASL[design]})")


def events(design: str) -> Graph:
    published, subscriptions = choreography_events() if design == "choreographed" else hybrid_events()
    return event_flow(published, subscriptions, f"{design}: the event flow (rules matched against events)")


def architecture(design: str) -> Graph:
    """Components and what links them: calls (solid), publishes and subscriptions (dashed)."""
    graph = Graph(f"{design}: architecture")
    graph.nodes.append(Node("client", "client", "stadium", note="places orders"))
    databases = [Node(f"{n}-db", f"{n} db", "cylinder", "databases") for n in SERVICES]
    services = [Node(n, n, "round", "services") for n in SERVICES]
    if design in ("orchestrated", "hybrid", "workflows"):
        graph.nodes += [
            Node(
                "engine",
                "engine",
                note="workflow (Cloud Workflows)" if design in WORKFLOWS else "state machine",
            ),
            Node("store", "engine store", "cylinder"),
        ]
        graph.edges += [
            Edge("client", "engine", "StartExecution"),
            Edge("engine", "store", "history, leases"),
        ]
        called = SERVICES if design != "hybrid" else ("payment", "inventory", "orders")
        graph.edges += [Edge("engine", n, "HTTP POST" if design in WORKFLOWS else "task") for n in called]
    if design in ("choreographed", "hybrid"):
        graph.nodes += [Node("bus", "event bus", note="rules, retries, DLQ")]
    if design == "choreographed":
        graph.edges.append(Edge("client", "orders", "place"))
        published, subscriptions = choreography_events()
        publishers = dict.fromkeys(p.publisher for p, _ in flows(published, subscriptions))
        graph.edges += [Edge(n, "bus", "publish (outbox)", dashed=True) for n in publishers]
        subscribers = dict.fromkeys(sub for _, sub in flows(published, subscriptions))
        graph.edges += [Edge("bus", n, "deliver (inbox)", dashed=True) for n in subscribers]
    if design == "hybrid":
        graph.edges += [Edge("engine", "bus", "putEvents", dashed=True)]
        graph.edges += [Edge("bus", "notification", "deliver (inbox)", dashed=True)]
    graph.nodes += services + databases
    graph.edges += [Edge(n, f"{n}-db", "") for n in SERVICES]
    return graph
