"""Map and Parallel with tasks that wait: concurrency limits, tolerated failures, failing branches, scoping."""

from __future__ import annotations

import json
from typing import Any

from stepdance.asl import machine
from stepdance.asl.definition import Definition
from stepdance.asl.protocol import InvokeTask, TaskFailed, TaskSucceeded
from stepdance.asl.simulate import HandlerError, info_for, run


def task_map(**fields: Any) -> Definition:
    processor = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "work", "End": True}}}
    return Definition.parse(
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}}}
    )


def invokes(step: machine.Step) -> list[InvokeTask]:
    return [c for c in step.commands if isinstance(c, InvokeTask)]


def test_max_concurrency_bounds_the_tasks_in_flight() -> None:
    definition = task_map(MaxConcurrency=2)
    step = machine.start(definition, info_for(), json.dumps([1, 2, 3, 4, 5]), 0.0)
    in_flight = invokes(step)
    assert [i.payload for i in in_flight] == [1, 2]
    done: list[Any] = []
    while in_flight:
        first = in_flight.pop(0)
        step = machine.advance(
            definition, step.state, TaskSucceeded(first.task_id, json.dumps(first.payload * 10)), 1.0
        )
        done.append(first.payload)
        in_flight += invokes(step)
        assert len(in_flight) <= 2
    assert step.status == "SUCCEEDED"
    assert json.loads(step.state["output"]) == [10, 20, 30, 40, 50]
    assert done == [1, 2, 3, 4, 5]


def test_unlimited_concurrency_starts_every_item() -> None:
    step = machine.start(task_map(), info_for(), json.dumps(list(range(7))), 0.0)
    assert len(invokes(step)) == 7


def test_tolerated_failure_count_keeps_failed_items_as_error_objects() -> None:
    def work(item: int) -> int:
        if item % 2:
            raise HandlerError("Odd", f"{item} is odd")
        return item

    out = run(task_map(ToleratedFailureCount=2), json.dumps([0, 1, 2, 3]), handlers={"work": work})
    assert out.status == "SUCCEEDED"
    assert json.loads(out.output or "") == [
        0,
        {"Error": "Odd", "Cause": "1 is odd"},
        2,
        {"Error": "Odd", "Cause": "3 is odd"},
    ]


def test_exceeding_the_tolerated_percentage_fails_the_map() -> None:
    def work(item: int) -> int:
        raise HandlerError("Bad")

    out = run(task_map(ToleratedFailurePercentage=40), json.dumps([0, 1, 2, 3]), handlers={"work": work})
    assert (out.status, out.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_a_failed_branch_cancels_its_siblings_and_can_be_caught() -> None:
    definition = Definition.parse(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "Slow",
                            "States": {"Slow": {"Type": "Task", "Resource": "slow", "End": True}},
                        },
                        {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E", "Cause": "c"}}},
                    ],
                    "Catch": [{"ErrorEquals": ["E"], "ResultPath": "$.err", "Next": "Done"}],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )
    step = machine.start(definition, info_for(), '{"k": 1}', 0.0)
    slow = invokes(step)[0]
    assert step.status == "SUCCEEDED"
    assert json.loads(step.state["output"]) == {"k": 1, "err": {"Error": "E", "Cause": "c"}}
    kinds = [e["type"] for e in step.events]
    assert kinds.index("ParallelStateFailed") < kinds.index("ParallelStateExited")
    late = machine.advance(definition, step.state, TaskSucceeded(slow.task_id, "1"), 1.0)
    assert late.events == []


def test_parallel_results_come_in_branch_order_whatever_order_they_finish_in() -> None:
    branches = [
        {"StartAt": f"T{i}", "States": {f"T{i}": {"Type": "Task", "Resource": f"t{i}", "End": True}}}
        for i in range(3)
    ]
    definition = Definition.parse(
        {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}}}
    )
    step = machine.start(definition, info_for(), "{}", 0.0)
    tasks = invokes(step)
    for task in reversed(tasks):
        step = machine.advance(
            definition, step.state, TaskSucceeded(task.task_id, json.dumps(task.resource)), 1.0
        )
    assert json.loads(step.state["output"]) == ["t0", "t1", "t2"]


def test_children_read_outer_variables_but_their_assignments_stay_inside() -> None:
    definition = Definition.parse(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Set",
            "States": {
                "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
                "M": {
                    "Type": "Map",
                    "Items": [10, 20],
                    "ItemProcessor": {
                        "StartAt": "Inner",
                        "States": {
                            "Inner": {
                                "Type": "Pass",
                                "Assign": {"y": "{% $x + $states.input %}"},
                                "Next": "Read",
                            },
                            "Read": {"Type": "Pass", "Output": "{% $y %}", "End": True},
                        },
                    },
                    "Next": "After",
                },
                "After": {"Type": "Pass", "Output": "{% {'x': $x, 'results': $states.input} %}", "End": True},
            },
        }
    )
    out = run(definition, "{}")
    assert out.status == "SUCCEEDED"
    assert json.loads(out.output or "") == {"x": 1, "results": [11, 21]}


def test_assign_values_are_computed_before_any_is_written() -> None:
    definition = Definition.parse(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
                "Swap": {
                    "Type": "Pass",
                    "Assign": {"a": "{% $b %}", "b": "{% $a %}"},
                    "Output": "{% [$a, $b] %}",
                    "Next": "Show",
                },
                "Show": {
                    "Type": "Pass",
                    "Output": "{% {'a': $a, 'b': $b, 'before': $states.input} %}",
                    "End": True,
                },
            },
        }
    )
    out = run(definition, "{}")
    assert json.loads(out.output or "") == {"a": 2, "b": 1, "before": [1, 2]}


def test_jsonata_catch_sees_the_error_output() -> None:
    definition = Definition.parse(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "work",
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "Assign": {"why": "{% $states.errorOutput.Cause %}"},
                            "Output": "{% {'failed': $states.errorOutput.Error} %}",
                            "Next": "Show",
                        }
                    ],
                    "End": True,
                },
                "Show": {
                    "Type": "Pass",
                    "Output": "{% $merge([$states.input, {'why': $why}]) %}",
                    "End": True,
                },
            },
        }
    )
    step = machine.start(definition, info_for(), "{}", 0.0)
    step = machine.advance(
        definition, step.state, TaskFailed(invokes(step)[0].task_id, "Nope", "because"), 1.0
    )
    assert json.loads(step.state["output"]) == {"failed": "Nope", "why": "because"}


def test_map_inside_map_with_tasks() -> None:
    inner = {
        "StartAt": "Inner",
        "States": {
            "Inner": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "W",
                    "States": {"W": {"Type": "Task", "Resource": "work", "End": True}},
                },
                "End": True,
            }
        },
    }
    definition = Definition.parse(
        {"StartAt": "Outer", "States": {"Outer": {"Type": "Map", "ItemProcessor": inner, "End": True}}}
    )
    out = run(definition, json.dumps([[1, 2], [3]]), handlers={"work": lambda x: x * 2})
    assert json.loads(out.output or "") == [[2, 4], [6]]
    ids = [e["id"] for e in out.events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
