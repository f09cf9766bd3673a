"""A Workflows definition drawn from its parsed steps: a node per step (its path as id), groups per routine
and nested list, the ways on as edges; Mermaid and SVG with every label escaped; the path of a simulated
execution marked from its step entries (the order saga's success and compensation paths)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from stepdance.diagrams import svg
from stepdance.diagrams.graph import Edge, Graph
from stepdance.diagrams.statemachine import START
from stepdance.diagrams.workflows import diagram_of, end_of, start_of, with_entries, workflow
from stepdance.gcw.simulate import simulate
from stepdance.gcw.syntax import walk
from tests.gcw.test_machine_support import EXAMPLES, example
from tests.gcw.test_simulate_saga import Shop

pytestmark = pytest.mark.timeout(10)

SVG = "{http://www.w3.org/2000/svg}"
SAGA = "main.steps[{}].{}"


def _svg_texts(text: str) -> list[str]:
    root = ElementTree.fromstring(text)  # well-formed, or this raises
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def _edge(graph: Graph, source: str, target: str) -> Edge:
    (found,) = [e for e in graph.edges if (e.source, e.target) == (source, target)]
    return found


def _short(node_id: str) -> str:
    return node_id.rsplit(".", 1)[-1]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_has_a_node_per_named_step_a_group_per_routine_and_draws(path: Path) -> None:
    parsed = example(path.stem)
    graph = workflow(path.read_text(), path.stem)
    ids = {n.id for n in graph.nodes}
    for name, routine in parsed.items():
        assert graph.node(start_of(name)).group == name
        named = [s for s in walk(routine.steps) if not s.inline]
        assert {s.path for s in named} <= ids
        assert {graph.node(s.path).label for s in named} == {s.name for s in named}
    assert all(e.source in ids and e.target in ids for e in graph.edges), "no edge leads nowhere"
    texts = _svg_texts(svg.graph_svg(graph))
    assert {s.name for s in walk(parsed.main.steps) if not s.inline} <= set(texts)
    assert graph.to_mermaid().startswith(f"---\ntitle: {path.stem}\n---\nflowchart TD")


def test_the_order_saga_shows_its_calls_retries_excepts_and_the_compensating_subworkflow() -> None:
    graph = workflow(example("order_saga"), "saga")
    charge, reserve = SAGA.format(1, "charge"), SAGA.format(2, "reserve")
    compensate = f"{reserve}.except.steps[0].compensate"
    assert graph.node(charge).note == "http.post; retry http.default_retry_non_idempotent"
    assert graph.node(reserve).note.startswith("http.post; retry http.default_retry_predicate x5, 1-30 s x2")
    assert graph.node(SAGA.format(4, "publish")).note == "googleapis.pubsub.v1.projects.topics.publish"
    caught = _edge(graph, reserve, compensate)
    assert caught.dashed and caught.label == "except as e"
    assert graph.node(compensate).group == "main / reserve (except)"
    call = _edge(graph, compensate, start_of("refund"))
    assert call.dashed and call.label == "call" and graph.node(compensate).note == "call refund"
    assert _edge(graph, f"{charge}.except.steps[0].declined", SAGA.format(4, "publish")).label == ""
    assert _edge(graph, SAGA.format(5, "done"), end_of("main")).label == "return"
    assert _edge(graph, "refund.steps[1].refund_done", end_of("refund")).label == "return"
    assert graph.node(start_of("refund")).note == "payments, order_id, charge_id, reason=c…"
    mermaid = graph.to_mermaid()
    assert 'subgraph n_refund["refund"]' in mermaid
    assert '-.->|"except as e"|' in mermaid


def test_switch_conditions_label_their_edges_and_inline_steps_are_nodes() -> None:
    graph = workflow(example("switch"), "switch")
    switch = SAGA.format(1, "where_to_jump")
    labels = {_short(e.target): e.label for e in graph.edges if e.source == switch}
    assert labels == {
        "small": "first_result.body.SomeField < 10",
        "medium_log": "first_result.body.SomeField < 100",
        "switch[2]": "first_result.body.SomeField > 10000",
        "switch[3]": "true",  # no "otherwise": this condition always holds
    }
    assert graph.node(switch).shape == "diamond"
    assert graph.node(f"{switch}.switch[2]").label == "return"
    assert graph.node(f"{switch}.switch[3]").note == "size"
    assert _edge(graph, f"{switch}.switch[3]", SAGA.format(3, "large")).label == ""  # the switch's next
    medium_call = f"{switch}.switch[1].steps[1].medium_call"
    assert graph.node(medium_call).group == "main / where_to_jump [1]"
    assert _edge(graph, medium_call, end_of("main")).label == ""  # next: end
    assert '|"first_result.body.SomeField &lt; 10"|' in graph.to_mermaid()


def test_loops_go_round_their_body_and_break_and_continue_leave_it() -> None:
    graph = workflow(example("loops"), "loops")
    loop, after = SAGA.format(1, "sum_list"), SAGA.format(2, "by_key")
    skip, stop = f"{loop}.for.steps[0].skip_free", f"{loop}.for.steps[1].stop_at_limit"
    assert graph.node(loop).note == "for item in input.items"
    assert graph.node(SAGA.format(3, "count_down")).note == "for n range [1, 9]"
    assert _edge(graph, loop, skip).label == "each"
    assert _edge(graph, skip, loop).label == "item.price == 0"  # next: continue
    assert _edge(graph, stop, after).label == "total > 1000"  # next: break
    assert _edge(graph, f"{loop}.for.steps[2].add", loop).label == ""  # the next item
    assert _edge(graph, loop, after).label == "done"
    assert graph.node(skip).group == "main / sum_list (for)"


def test_parallel_branches_are_groups_and_a_parallel_for_is_one_node() -> None:
    graph = workflow(example("parallel"), "parallel")
    fetch = SAGA.format(1, "fetch_both")
    branch = f"{fetch}.parallel.branches[0].get_user"
    assert graph.node(fetch).note == "parallel: 2 branches; shared user, notification"
    assert graph.node(branch).group == "main / fetch_both: get_user"
    assert _edge(graph, fetch, branch) and _edge(graph, f"{branch}.steps[0].get_user_call", fetch)
    loop = SAGA.format(2, "sum_in_parallel")
    assert graph.node(loop).note == "parallel for order_id in input.order_ids"
    assert f"{loop}.parallel.for" not in {n.id for n in graph.nodes}
    assert _edge(graph, loop, f"{loop}.parallel.for.steps[0].get_order").label == "each"


def test_a_retry_predicate_subworkflow_is_linked_and_a_try_of_steps_is_a_group() -> None:
    graph = workflow(example("retry"), "retry")
    other = SAGA.format(1, "read_other")
    assert _edge(graph, other, start_of("my_own_predicate")).label == "retry if"
    assert "retry my_own_predicate x8, 1-60 s x2" in graph.node(other).note
    assert _edge(graph, other, f"{other}.try.steps[0].call_other").label == "try"
    assert graph.node(f"{other}.try.steps[0].call_other").group == "main / read_other (try)"
    raised = f"{other}.except.steps[1].unhandled_exception"
    assert _edge(graph, raised, end_of("main")).label == "raise"


def test_labels_are_escaped_in_mermaid_and_svg() -> None:
    text = """
main:
  steps:
    - check:
        switch:
          - condition: ${x == "<script>&\\"}"}
            next: end
    - done:
        return: 1
"""
    graph = workflow(text, 'title <b>"quoted"</b>')
    mermaid = graph.to_mermaid()
    assert "<script>" not in mermaid and "&lt;script&gt;&amp;" in mermaid and "#quot;" in mermaid
    drawn = svg.graph_svg(graph)
    assert "<script>" not in drawn
    assert 'x == "<script>&\\"}"' in _svg_texts(drawn)  # parsed back to the text as written


def _marks(graph: Graph) -> dict[str, str]:
    return {_short(n.id): n.mark for n in graph.nodes if n.mark}


def _followed(graph: Graph) -> set[tuple[str, str]]:
    return {(_short(e.source), _short(e.target)) for e in graph.edges if e.mark == "taken"}


def test_the_saga_s_success_path_is_marked_from_its_step_entries() -> None:
    graph = with_entries(workflow(example("order_saga"), "saga"), Shop().run().events)
    steps = ("init", "charge", "reserve", "completed", "publish", "done")
    assert _marks(graph) == dict.fromkeys(steps, "taken")
    path = list(zip(("(start)", *steps), (*steps, "(end)"), strict=True))
    assert _followed(graph) == set(path)


def test_the_saga_s_compensation_path_marks_the_failed_reservation_and_the_refund() -> None:
    graph = with_entries(workflow(example("order_saga"), "saga"), Shop(reserve=[503, 409]).run().events)
    marks = _marks(graph)
    assert marks.pop("reserve") == "failed"  # retried, then caught: as an ASL Catch
    assert set(marks.values()) == {"taken"}
    assert set(marks) == {"init", "charge", "compensate", "out_of_stock", "publish", "done"} | {
        "refund_call",
        "refund_done",
    }
    followed = _followed(graph)
    assert {("reserve", "compensate"), ("compensate", "(start)"), ("compensate", "out_of_stock")} <= followed
    assert {("refund_done", "(end)"), ("out_of_stock", "publish")} <= followed
    assert ("reserve", "completed") not in followed
    retried = with_entries(workflow(example("order_saga"), "saga"), Shop(charge=[503]).run().events)
    assert _marks(retried)["charge"] == "retried"


def test_parallel_threads_and_loops_are_followed_thread_by_thread() -> None:
    outcome = simulate(
        example("parallel"), json.dumps({"user_id": "u", "order_ids": [1, 2]}), http=lambda r: {"amount": 3}
    )
    graph = with_entries(workflow(example("parallel"), "parallel"), outcome.events)
    assert {("fetch_both", "get_user"), ("get_user_call", "fetch_both")} <= _followed(graph)
    assert {("sum_in_parallel", "get_order"), ("add_order", "sum_in_parallel")} <= _followed(graph)
    assert ("sum_in_parallel", "done") in _followed(graph)


def test_a_running_execution_marks_what_it_entered_so_far() -> None:
    events = Shop().run().events
    cut = next(i for i, e in enumerate(events) if e["type"] == "TaskScheduled")
    graph = with_entries(workflow(example("order_saga"), "saga"), events[:cut])
    assert _marks(graph) == {"init": "taken", "charge": "taken"}  # charge is still open
    assert svg.graph_svg(graph)
    failed = [*events[:cut], {"type": "ExecutionAborted", "executionAbortedEventDetails": {}}]
    assert _marks(with_entries(workflow(example("order_saga"), "saga"), failed))["charge"] == "failed"


def test_diagram_of_picks_the_language_of_the_text() -> None:
    asl = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    drawn = diagram_of(json.dumps(asl), "asl")
    assert START in {n.id for n in drawn.nodes} and drawn.title == "asl"
    entered = [{"type": "PassStateEntered", "stateEnteredEventDetails": {"name": "P"}}]
    assert diagram_of(json.dumps(asl), "asl", entered).node("P").mark == "taken"
    text = (EXAMPLES / "order_saga.yaml").read_text()
    assert diagram_of(text).node(SAGA.format(0, "init")).label == "init"
    assert diagram_of(text, "saga", Shop().run().events).node(SAGA.format(0, "init")).mark == "taken"
    with pytest.raises(ValueError):
        diagram_of("main:\n  steps:\n    - x: {call: }\n")
