"""An ASL state machine drawn from its definition: a node per state (Task, Choice, Pass, Wait, Succeed,
Fail, Parallel, Map), an edge per transition (Next, each Choice rule and Default, each Catch, dashed), a
start and an end; a state's Retry policies as its note. Given an execution's history, the states it went
through are marked (taken, failed, retried) and the edges it followed drawn bold. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from stepdance.diagrams.graph import Edge, Graph, Node

START, END = "(start)", "(end)"
_SHAPES = {"Task": "round", "Choice": "diamond", "Succeed": "stadium", "Fail": "stadium"}


def state_machine(definition: Mapping[str, Any] | str, title: str = "state machine") -> Graph:
    """The graph of ``definition`` (an ASL document, or its text)."""
    asl = json.loads(definition) if isinstance(definition, str) else definition
    graph = Graph(title)
    graph.nodes.append(Node(START, "start", "circle"))
    _states(graph, asl, "")
    graph.edges.insert(0, Edge(START, asl["StartAt"]))
    if any(e.target == END for e in graph.edges):
        graph.nodes.append(Node(END, "end", "circle"))
    return graph


def _states(graph: Graph, asl: Mapping[str, Any], group: str) -> None:
    for name, state in asl.get("States", {}).items():
        kind = state.get("Type", "")
        graph.nodes.append(Node(name, name, _SHAPES.get(kind, "box"), group, note=_note(kind, state)))
        for target, label, dashed in _transitions(state):
            graph.edges.append(Edge(name, target, label, dashed))


def _transitions(state: Mapping[str, Any]) -> Iterable[tuple[str, str, bool]]:
    kind = state.get("Type")
    for rule in state.get("Choices", []):
        yield rule["Next"], _condition(rule), False
    if "Default" in state:
        yield state["Default"], "default", False
    if "Next" in state:
        yield state["Next"], "", False
    if state.get("End") or kind in ("Succeed", "Fail"):
        yield END, "failed" if kind == "Fail" else "", False
    for catch in state.get("Catch", []):
        yield catch["Next"], "catch " + ", ".join(catch.get("ErrorEquals", [])), True


def _note(kind: str, state: Mapping[str, Any]) -> str:
    parts = []
    if kind == "Task":
        parts.append(str(state.get("Resource", "")).rsplit(":", 1)[-1])
    if kind in ("Parallel",):
        parts.append(f"{len(state.get('Branches', []))} branches")
    if kind == "Map":
        parts.append("for each item")
    if kind == "Fail" and state.get("Error"):
        parts.append(str(state["Error"]))
    for retry in state.get("Retry", []):
        parts.append(f"retry {', '.join(retry.get('ErrorEquals', []))} x{retry.get('MaxAttempts', 3)}")
    if state.get("TimeoutSeconds"):
        parts.append(f"timeout {state['TimeoutSeconds']} s")
    return "; ".join(p for p in parts if p)


def _condition(rule: Mapping[str, Any]) -> str:
    """A Choice rule in a few words: ``$.total NumericGreaterThan 100``, or its JSONata condition."""
    if "Condition" in rule:
        return str(rule["Condition"])
    for combinator in ("And", "Or"):
        if combinator in rule:
            return f" {combinator.lower()} ".join(_condition(r) for r in rule[combinator])
    if "Not" in rule:
        return "not " + _condition(rule["Not"])
    variable = rule.get("Variable", "")
    operator = next((k for k in rule if k not in ("Variable", "Next")), "")
    return f"{variable} {operator} {rule.get(operator)}".strip()


def with_path(graph: Graph, history: Iterable[Mapping[str, Any]]) -> Graph:
    """``graph`` with the path an execution's ``history`` (GetExecutionHistory's events) took: states
    entered marked taken (retried if a task of it failed and was tried again; failed if it failed for
    good), and the transitions between them bold."""
    entered: list[str] = []
    failures: dict[str, int] = {}
    tries: dict[str, int] = {}
    current = ""
    ended = ""
    for event in history:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            current = event["stateEnteredEventDetails"]["name"]
            entered.append(current)
        elif kind in ("TaskScheduled",):
            tries[current] = tries.get(current, 0) + 1
        elif kind in ("TaskFailed", "TaskTimedOut"):
            failures[current] = failures.get(current, 0) + 1
        elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            ended = current
    marks = {}
    for name in entered:
        if name == ended:
            marks[name] = "failed"
        elif failures.get(name) and tries.get(name, 0) > failures[name]:
            marks[name] = "retried"
        elif failures.get(name):
            marks[name] = "failed"
        else:
            marks[name] = "taken"
    followed = set(zip([START, *entered], entered, strict=False))
    if entered and not ended:
        followed.add((entered[-1], END))
    nodes = [Node(n.id, n.label, n.shape, n.group, marks.get(n.id, ""), n.note) for n in graph.nodes]
    edges = [
        Edge(e.source, e.target, e.label, e.dashed, "taken" if (e.source, e.target) in followed else "")
        for e in graph.edges
    ]
    return Graph(graph.title, nodes, edges, graph.direction)
