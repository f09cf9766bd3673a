"""The diagrams come from the real definitions: every state and transition of the ASL, the event flow
computed by matching the rules' patterns against the published events, the path of an execution marked;
Mermaid and SVG both, every label escaped."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from stepdance.cli.main import app
from stepdance.diagrams import designs, order, svg
from stepdance.diagrams.eventflow import Published, Subscription, event_flow
from stepdance.diagrams.statemachine import END, START, state_machine, with_path
from stepdance.observe import OrderTrace, SpanRow

SVG = "{http://www.w3.org/2000/svg}"


def _svg_texts(text: str) -> list[str]:
    root = ElementTree.fromstring(text)  # well-formed, or this raises
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_the_state_machine_has_every_state_and_transition_of_the_definition() -> None:
    asl = designs.definition("orchestrated")
    graph = designs.states("orchestrated")
    assert {n.id for n in graph.nodes} == set(asl["States"]) | {START, END}
    for name, state in asl["States"].items():
        for catch in state.get("Catch", []):
            (edge,) = [e for e in graph.edges if (e.source, e.target) == (name, catch["Next"]) and e.dashed]
            assert edge.label == "catch " + ", ".join(catch["ErrorEquals"])
        if "Next" in state:
            assert any((e.source, e.target, e.dashed) == (name, state["Next"], False) for e in graph.edges)
    assert "retry ServiceUnavailable x4" in graph.node("ChargePayment").note
    assert "timeout 5 s" in graph.node("ReserveStock").note
    text = graph.to_mermaid()
    assert text.startswith("---\ntitle: orchestrated") and "flowchart TD" in text
    assert 'n_ChargePayment -.->|"catch PaymentDeclined"| n_CancelDeclinedOrder' in text
    assert "ChargePayment" in _svg_texts(svg.graph_svg(graph))


def test_a_choice_is_drawn_with_its_rules_and_default() -> None:
    graph = state_machine(
        {
            "StartAt": "Big?",
            "States": {
                "Big?": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}],
                    "Default": "Done",
                },
                "Review": {"Type": "Pass", "Next": "Done"},
                "Done": {"Type": "Succeed"},
            },
        }
    )
    labels = {(e.source, e.target): e.label for e in graph.edges}
    assert labels[("Big?", "Review")] == "$.total NumericGreaterThan 100"
    assert labels[("Big?", "Done")] == "default"
    assert graph.node("Big?").shape == "diamond"


def test_the_path_of_an_execution_is_marked_with_its_retries_and_failures() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "ChoiceStateEntered", "stateEnteredEventDetails": {"name": "IsPlaced"}},
        {"type": "ChoiceStateExited", "stateExitedEventDetails": {"name": "IsPlaced"}},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "ChargePayment"}},
        {"type": "TaskScheduled"},
        {"type": "TaskFailed"},
        {"type": "TaskScheduled"},
        {"type": "TaskSucceeded"},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "ChargePayment"}},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "ReserveStock"}},
        {"type": "TaskScheduled"},
        {"type": "TaskFailed"},
        {"type": "ExecutionFailed"},
    ]
    marked = with_path(designs.states("orchestrated"), history)
    assert marked.node("ChargePayment").mark == "retried"
    assert marked.node("ReserveStock").mark == "failed"
    assert marked.node("CompleteOrder").mark == ""
    taken = {(e.source, e.target) for e in marked.edges if e.mark == "taken"}
    assert taken == {(START, "IsPlaced"), ("IsPlaced", "ChargePayment"), ("ChargePayment", "ReserveStock")}
    assert marked.node("AcceptOrder").mark == ""  # the branch an order placed by the design skips
    text = marked.to_mermaid()
    assert "class n_ReserveStock failed" in text and "n_ChargePayment ==> n_ReserveStock" in text
    assert "class='node retried'" in svg.graph_svg(marked)


def test_the_event_flow_is_computed_by_matching_the_rules_against_the_events() -> None:
    flow = designs.events("choreographed")
    edges = {(e.source, e.target, e.label) for e in flow.edges}
    assert edges == {
        ("orders", "payment", "OrderPlaced"),
        ("payment", "inventory", "PaymentCharged"),
        ("payment", "orders", "PaymentDeclined"),
        ("payment", "notification", "PaymentDeclined"),
        ("inventory", "orders", "StockReserved"),
        ("inventory", "notification", "StockReserved"),
        ("inventory", "payment", "OutOfStock"),
        ("payment", "orders", "PaymentRefunded"),
        ("payment", "notification", "PaymentRefunded"),
    }
    hybrid = {(e.source, e.target, e.label) for e in designs.events("hybrid").edges}
    assert hybrid == {
        ("engine", "notification", "OrderCompleted"),
        ("engine", "notification", "OrderCancelled"),
    }
    # a rule that matches nothing published draws no edge: the flow is not a copy of a table
    published = [Published("shop", "shop", "OrderPlaced")]
    quiet = event_flow(published, [Subscription("audit", "r", {"source": ["elsewhere"]})])
    assert quiet.edges == []
    prefix = event_flow(published, [Subscription("audit", "r", {"detail-type": [{"prefix": "Order"}]})])
    assert [(e.source, e.target) for e in prefix.edges] == [("shop", "audit")]


@pytest.mark.parametrize("design", designs.DESIGNS)
def test_every_design_draws_as_mermaid_and_as_well_formed_svg(design: str) -> None:
    graph = designs.architecture(design)
    texts = _svg_texts(svg.graph_svg(graph))
    assert "payment" in texts and "client" in texts
    assert ("engine" in texts) == (design != "choreographed")
    assert ("event bus" in texts) == (design in ("choreographed", "hybrid"))
    assert graph.to_mermaid().count("-->") + graph.to_mermaid().count("-.->") == len(graph.edges)


def test_labels_are_escaped_everywhere() -> None:
    hostile = '<script>alert("x")</script> & more'
    graph = state_machine({"StartAt": hostile, "States": {hostile: {"Type": "Succeed"}}})
    drawn = svg.graph_svg(graph)
    assert "<script>" not in drawn and hostile in _svg_texts(drawn)
    assert "<script>" not in graph.to_mermaid()


def _trace() -> OrderTrace:
    def row(
        offset: float, depth: int, component: str, name: str, span: str, parent: str, error: str | None = None
    ):
        return SpanRow(offset, 0.002, depth, component, name, error, {}, span, parent)

    return OrderTrace(
        "o-1",
        "t" * 32,
        "orchestrated",
        [
            row(0.0, 0, "orders", "order o-1", "a", ""),
            row(0.001, 1, "engine", "execution o-1", "b", "a"),
            row(0.002, 2, "engine", "task ChargePayment", "c", "b", "ServiceUnavailable: down"),
            row(0.002, 3, "payment", "payment.charge", "d", "c", "TaskFailure: down"),
            row(0.010, 2, "engine", "task ChargePayment", "e", "b"),
            row(0.010, 3, "payment", "payment.charge", "f", "e"),
        ],
    )


def test_an_orders_sequence_and_timeline_mark_its_failures() -> None:
    trace = _trace()
    steps = order.messages(trace)
    assert [(m.source, m.target, m.what, bool(m.error)) for m in steps] == [
        ("orders", "engine", "execution o-1", False),
        ("engine", "payment", "payment.charge", True),
        ("engine", "payment", "payment.charge", False),
    ]
    sequence = order.sequence_mermaid(trace)
    assert "engine-xpayment: payment.charge" in sequence and "Note over payment: failed" in sequence
    gantt = order.timeline_mermaid(trace)
    assert "section payment" in gantt and ":crit, 2, 2ms" in gantt
    assert "payment.charge (2.0 ms) ✗" in _svg_texts(order.sequence_svg(trace))
    assert "task ChargePayment" in _svg_texts(order.timeline_svg(trace))


def test_the_command_draws_each_design_and_refuses_what_cannot_be_drawn() -> None:
    runner = CliRunner()
    for design in designs.DESIGNS:
        drawn = runner.invoke(app, ["diagram", "--design", design])
        assert drawn.exit_code == 0, drawn.output
        assert "%% architecture" in drawn.output
        assert ("%% states" in drawn.output) == (design != "choreographed")
        assert ("%% events" in drawn.output) == (design in ("choreographed", "hybrid"))
    no_out = runner.invoke(app, ["diagram", "--design", "hybrid", "--format", "svg"])
    assert no_out.exit_code == 2 and "give --out DIR" in no_out.output
    wrong = runner.invoke(app, ["diagram", "--design", "hybrid", "--format", "png"])
    assert wrong.exit_code == 2 and "mermaid or svg" in wrong.output
    no_engine = runner.invoke(app, ["diagram", "--design", "choreographed", "--execution", "arn:x"])
    assert no_engine.exit_code == 2 and "no executions" in no_engine.output
