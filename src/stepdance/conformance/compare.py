"""Compare what an engine did with what AWS recorded (README, "Comparison")."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stepdance.conformance.cases import ChoicePair, ExecutionCase
from stepdance.conformance.normalise import Names, normalise
from stepdance.conformance.values import (
    differences,
    parsed_json,
    renumber_placeholders,
    unordered_branch_runs,
)

_RESULT_FIELDS = ("output", "error", "cause")


@dataclass(frozen=True, slots=True)
class ActualExecution:
    """An engine's execution as DescribeExecution and GetExecutionHistory would show it (raw, unmasked)."""

    status: str
    output: Any = None  # JSON text (or a JSON value)
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    state_machine_arn: str | None = None
    execution_arn: str | None = None
    role_arn: str | None = None  # else the one in ExecutionStarted

    def names(self) -> Names:
        return Names.from_arns(
            self.state_machine_arn, self.execution_arn, self.role_arn or self._started_role()
        )

    def _started_role(self) -> str | None:
        for event in self.history:
            role = (event.get("executionStartedEventDetails") or {}).get("roleArn")
            if role:
                return str(role)
        return None


def compare_execution(case: ExecutionCase, actual: ActualExecution) -> list[str]:
    """Every difference between the recorded execution and the actual one; empty when they match."""
    names = actual.names()
    found = []
    if actual.status != case.expected["status"]:
        found.append(f"status: expected {case.expected['status']}, got {actual.status}")
    found += _result_differences(case, actual, names)
    found += _history_differences(case, actual, names)
    return found


def _result_differences(case: ExecutionCase, actual: ActualExecution, names: Names) -> list[str]:
    """Output, error and cause, normalised as the details of the closing event they appear in."""
    fields = {name: getattr(actual, name) for name in _RESULT_FIELDS if name in case.expected}
    if "output" in fields and not isinstance(fields["output"], str | None):
        fields["output"] = json.dumps(fields["output"])
    key = case.closing_details_key
    doc = normalise({"events": [{key: fields}]}, case.transformers, names)
    normalised = doc["events"][0][key]
    found = []
    for name in fields:
        got = normalised.get(name)
        if name == "output":
            got = parsed_json(got)[1]
        found += differences(renumber_placeholders(case.expected[name]), renumber_placeholders(got), name)
    return found


def _history_differences(case: ExecutionCase, actual: ActualExecution, names: Names) -> list[str]:
    doc = normalise(
        {"events": actual.history}, case.transformers, names, parallel=case.parallel_branch_events
    )
    expected = unordered_branch_runs(renumber_placeholders(case.expected.get("history") or []))
    got = unordered_branch_runs(renumber_placeholders(doc["events"]))
    return sequence_differences(expected, got) + differences(expected, got, "history")


def sequence_differences(expected: list[Any], actual: list[Any]) -> list[str]:
    """The two event sequences side by side when they differ (ids and types only)."""
    left, right = _summary(expected), _summary(actual)
    if left == right:
        return []
    lines = ["event sequence differs (expected | actual):"]
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else ""
        y = right[index] if index < len(right) else ""
        lines.append(f"  {'  ' if x == y else '! '}{x:<45} | {y}")
    return lines


def _summary(events: list[Any]) -> list[str]:
    return [
        f"{e.get('id')}<-{e.get('previousEventId')} {e.get('type')}" if isinstance(e, dict) else repr(e)
        for e in events
    ]


def compare_choice_pair(pair: ChoicePair, status: str, output: Any) -> list[str]:
    """The branch a Choice pair took against the one AWS took (output as JSON text or value)."""
    if status != pair.expected_status:
        return [f"status: expected {pair.expected_status}, got {status}"]
    return differences(pair.expected_output, parsed_json(output)[1], "output")
