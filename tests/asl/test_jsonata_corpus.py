"""JSONata corpus executions that need only Pass, Choice, Fail and Succeed, replayed through the evaluator.

A tiny walker stands in for the interpreter: it evaluates each state's JSONata fields with
:func:`evaluate_field` / :func:`evaluate_condition` and compares the outcome with AWS's recorded status,
output, error and cause (the cause without the interpreter's "An error occurred while executing ..." prefix).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from stepdance.asl.errors import StatesError
from stepdance.asl.jsonata_eval import evaluate_condition, evaluate_field

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "asl"
WALKABLE = {"Pass", "Choice", "Fail", "Succeed"}


def _walkable(case: dict[str, Any]) -> bool:
    definition = case["definition"]
    top = definition.get("QueryLanguage", "JSONPath")
    states = definition["States"].values()
    return (
        "jsonata" in case.get("features", [])
        and "$states.context" not in json.dumps(definition)
        and all(s["Type"] in WALKABLE and s.get("QueryLanguage", top) == "JSONata" for s in states)
    )


def _cases() -> list[Any]:
    params = []
    for path in sorted(CORPUS.glob("*.json")):
        case = json.loads(path.read_text())
        if _walkable(case):
            params.append(pytest.param(case, id=path.stem))
    return params


CASES = _cases()


class Walk:
    def __init__(self, definition: dict[str, Any], value: Any) -> None:
        self.states = definition["States"]
        self.name = definition["StartAt"]
        self.value = value
        self.variables: dict[str, Any] = {}
        self.rng = random.Random(7)

    def field(self, template: Any, field: str) -> Any:
        states = {"input": self.value, "context": {}}
        return evaluate_field(template, states, self.variables, field=field, random=self.rng)

    def finish(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """Assign and Output both see the state's input and the variables as they were on entry."""
        assigned = self.field(state["Assign"], "Assign") if "Assign" in state else {}
        self.value = self.field(state["Output"], "Output") if "Output" in state else self.value
        self.variables.update(assigned)
        if state.get("End"):
            return {"status": "SUCCEEDED", "output": self.value}
        return None

    def step(self) -> dict[str, Any] | None:
        state = self.states[self.name]
        kind = state["Type"]
        if kind == "Succeed":
            return {"status": "SUCCEEDED", "output": self.value}
        if kind == "Fail":
            error = self.field(state["Error"], "Error") if "Error" in state else None
            return {"status": "FAILED", "error": error, "cause": state.get("Cause")}
        if kind == "Choice":
            return self.choose(state)
        self.name = state.get("Next", self.name)
        return self.finish(state)

    def choose(self, state: dict[str, Any]) -> dict[str, Any] | None:
        states = {"input": self.value, "context": {}}
        for rule in state["Choices"]:
            if evaluate_condition(rule["Condition"], states, self.variables, random=self.rng):
                self.name = rule["Next"]
                return self.finish(rule)
        if "Default" not in state:
            return {"status": "FAILED", "error": "States.NoChoiceMatched", "cause": None}
        self.name = state["Default"]
        return self.finish(state)

    def run(self) -> dict[str, Any]:
        try:
            for _ in range(50):
                outcome = self.step()
                if outcome is not None:
                    return outcome
        except StatesError as error:
            return {
                "status": "FAILED",
                "error": error.error,
                "cause": error.cause,
                "location": error.location,
            }
        raise AssertionError("the walk did not end")


@pytest.mark.skipif(not CASES, reason=f"the ASL corpus is not at {CORPUS}")
@pytest.mark.parametrize("case", CASES)
def test_jsonata_execution_matches_aws(case: dict[str, Any]) -> None:
    expected = case["expected"]
    actual = Walk(case["definition"], json.loads(case["input_text"])).run()
    assert actual["status"] == expected["status"]
    if expected["status"] == "SUCCEEDED":
        assert actual["output"] == expected["output"]
        return
    assert actual.get("error") == expected.get("error")
    cause = expected.get("cause")
    if actual.get("location") is None:
        assert actual.get("cause") == cause
    else:
        assert cause is not None and cause.endswith(f"). {actual['cause']}")
        failed = [e for e in expected["history"] if e["type"] == "EvaluationFailed"]
        assert failed[0]["evaluationFailedEventDetails"]["location"] == actual["location"]


def test_enough_of_the_corpus_is_walked() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the ASL corpus is not at {CORPUS}")
    assert len(CASES) >= 40
