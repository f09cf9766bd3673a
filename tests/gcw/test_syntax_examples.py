"""Realistic definitions (the docs' examples and stepdance's own saga) parse clean into the step model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stepdance.gcw.syntax import (
    Assign,
    Call,
    For,
    Next,
    Parallel,
    Raise,
    Retry,
    Return,
    Steps,
    Switch,
    Try,
    Workflows,
    looks_like_workflows,
    parse,
    validate,
    walk,
)

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.yaml"))


def example(name: str) -> Workflows:
    return parse((Path(__file__).parent / "examples" / f"{name}.yaml").read_text(), name)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_valid(path: Path) -> None:
    text = path.read_text()
    assert validate(text) == []
    assert looks_like_workflows(text)
    assert "main" in parse(text, path.name)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_same_definition_in_json_is_read_alike(path: Path) -> None:
    text = path.read_text()
    as_json = json.dumps(yaml.safe_load(text), indent="\t")
    assert validate(as_json) == []
    assert looks_like_workflows(as_json)
    from_yaml, from_json = parse(text), parse(as_json)
    assert list(from_yaml) == list(from_json)
    for name in from_yaml:
        names = [(type(s).__name__, s.name, s.path) for s in walk(from_yaml[name].steps)]
        assert names == [(type(s).__name__, s.name, s.path) for s in walk(from_json[name].steps)]


def test_steps_keep_their_line_path_and_next() -> None:
    workflows = example("switch")
    first, where, small, large = workflows.main.steps
    assert isinstance(first, Call) and first.function == "http.get" and first.result == "first_result"
    assert first.args == {"url": "https://www.example.com/callA"}
    assert (first.line, first.path, first.next) == (2, "main.steps[0].first_step", None)
    assert isinstance(where, Switch) and (where.line, where.next) == (7, "large")
    assert (small.name, small.next, large.line) == ("small", "end", 34)


def test_a_switch_condition_holds_an_inline_step() -> None:
    where = example("switch").main.steps[1]
    assert isinstance(where, Switch)
    jump, nested, returns, assigns = (branch.step for branch in where.branches)
    assert isinstance(jump, Next) and jump.next == "small" and jump.inline
    assert isinstance(nested, Steps) and [s.name for s in nested.steps] == ["medium_log", "medium_call"]
    assert nested.steps[1].next == "end" and not nested.steps[1].inline
    assert isinstance(returns, Return) and returns.value == "too large"
    assert isinstance(assigns, Assign) and assigns.assignments[0].target == "size"
    assert where.branches[3].condition is True
    assert where.branches[0].condition == "${first_result.body.SomeField < 10}"
    assert where.branches[1].path == "main.steps[1].where_to_jump.switch[1]"


def test_subworkflow_params_and_defaults() -> None:
    workflows = example("subworkflow")
    assert [p.name for p in workflows.main.params] == ["input"]
    first, last = workflows["hello"].params
    assert (first.name, first.required) == ("first_name", True)
    assert (last.name, last.default, last.required) == ("last_name", "Holmes", False)
    assert workflows["hello"].line == 20


def test_loops_over_a_list_a_map_and_ranges() -> None:
    steps = example("loops").main.steps
    by_list, by_key, by_range, by_expression, literal = steps[1:6]
    assert isinstance(by_list, For) and (by_list.value, by_list.index) == ("item", "i")
    assert by_list.items == "${input.items}" and by_list.range is None
    assert [s.name for s in by_list.steps] == ["skip_free", "stop_at_limit", "add"]
    assert isinstance(by_key, For) and by_key.items == "${keys(prices)}"
    assert isinstance(by_range, For) and by_range.range == (1, 9) and by_range.items is None
    assert isinstance(by_expression, For) and by_expression.range == "${[0, len(seen) - 1]}"
    assert isinstance(literal, For) and literal.items == ["a", "b", "c"]


def test_parallel_branches_and_parallel_for() -> None:
    steps = example("parallel").main.steps
    both, summed = steps[1], steps[2]
    assert isinstance(both, Parallel) and both.shared == ("user", "notification")
    assert [b.name for b in both.branches] == ["get_user", "get_notification"]
    assert both.exception_policy == "continueAll" and both.loop is None
    branch = "main.steps[1].fetch_both.parallel.branches[0].get_user"
    assert both.branches[0].path == branch
    assert both.branches[0].steps[0].path == f"{branch}.steps[0].get_user_call"
    assert isinstance(summed, Parallel) and summed.concurrency_limit == 5 and not summed.branches
    assert summed.loop is not None and summed.loop.inline and summed.loop.value == "order_id"
    assert [s.name for s in summed.loop.steps] == ["get_order", "add_order"]


def test_try_with_policies_and_except() -> None:
    workflows = example("retry")
    read_item, read_other = workflows.main.steps[:2]
    assert isinstance(read_item, Try) and read_item.retry == "${http.default_retry}"
    assert isinstance(read_item.body, Call) and read_item.body.inline and read_item.except_ is None
    assert isinstance(read_other, Try) and isinstance(read_other.body, Steps)
    assert isinstance(read_other.retry, Retry) and read_other.retry.predicate == "${my_own_predicate}"
    assert read_other.retry.max_retries == 8 and read_other.retry.backoff.max_delay == 60
    handler = read_other.except_
    assert handler is not None and handler.variable == "e"
    assert [s.name for s in handler.steps] == ["known_errors", "unhandled_exception"]
    assert isinstance(handler.steps[1], Raise) and handler.steps[1].value == "${e}"


def test_the_order_saga_compensates_and_publishes() -> None:
    workflows = example("order_saga")
    names = [step.name for step in walk(workflows.main.steps) if not step.inline]
    saga = "init charge declined reserve compensate out_of_stock completed publish done"
    assert names == saga.split()
    publish = workflows.main.steps[4]
    assert isinstance(publish, Call) and publish.function == "googleapis.pubsub.v1.projects.topics.publish"
    reserve = workflows.main.steps[2]
    assert isinstance(reserve, Try) and reserve.except_ is not None
    assert reserve.except_.steps[1].next == "publish"
    assert [p.required for p in workflows["refund"].params] == [True, True, True, False]


def test_a_top_level_list_is_main() -> None:
    workflows = parse("- hello:\n    return: world\n")
    assert list(workflows) == ["main"] and workflows.main.params == ()
    assert workflows.main.steps[0].path == "main.steps[0].hello"


def test_workflows_are_immutable() -> None:
    step = example("switch").main.steps[0]
    with pytest.raises(AttributeError):
        step.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        '{"Comment": "ASL", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}',
        "just text",
        "- 1\n- 2\n",
        "[]",
        "{}",
        "a: [unclosed",
        "- a: 1\n- b: 2\n",
    ],
)
def test_what_does_not_look_like_workflows(text: str) -> None:
    assert not looks_like_workflows(text)


@pytest.mark.parametrize(
    "text",
    [
        "- a:\n    call: nosuch\n",  # invalid, still a workflow
        "main:\n  steps: 3\n",
        '{"main": {"steps": [{"s": {"return": 1}}]}}',
        "main:\n  steps: []\nsub:\n  params: [a]\n",
    ],
)
def test_what_looks_like_workflows(text: str) -> None:
    assert looks_like_workflows(text)
