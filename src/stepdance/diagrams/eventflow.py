"""Who reacts to whose events, computed, not drawn by hand: every event a service publishes is matched
against every rule's event pattern with the bus's own matcher, and each match is an edge from the publisher
to the rule's target, labelled with the event. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stepdance.bus.patterns import compile_pattern
from stepdance.diagrams.graph import Edge, Graph, Node


@dataclass(frozen=True)
class Published:
    """An event a component publishes: its source and detail-type."""

    publisher: str
    source: str
    detail_type: str


@dataclass(frozen=True)
class Subscription:
    """A rule's pattern, and the component its target is."""

    subscriber: str
    rule: str
    pattern: Mapping[str, object]


def flows(
    published: Sequence[Published], subscriptions: Sequence[Subscription]
) -> list[tuple[Published, str]]:
    """Each (event, subscriber) whose rule matches the event."""
    found = []
    for subscription in subscriptions:
        pattern = compile_pattern(json.dumps(subscription.pattern))
        for event in published:
            sample = {
                "version": "0",
                "id": "00000000-0000-0000-0000-000000000000",
                "detail-type": event.detail_type,
                "source": event.source,
                "account": "123456789012",
                "time": "2026-01-01T00:00:00Z",
                "region": "us-east-1",
                "resources": [],
                "detail": {},
            }
            if pattern.matches(sample):
                found.append((event, subscription.subscriber))
    return found


def event_flow(
    published: Sequence[Published], subscriptions: Sequence[Subscription], title: str = "event flow"
) -> Graph:
    graph = Graph(title, direction="LR")
    names = dict.fromkeys([p.publisher for p in published] + [s.subscriber for s in subscriptions])
    graph.nodes += [Node(name, name, "round") for name in names]
    for event, subscriber in flows(published, subscriptions):
        graph.edges.append(Edge(event.publisher, subscriber, event.detail_type))
    return graph
