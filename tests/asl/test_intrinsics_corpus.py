"""Every conformance case whose machine is one JSONPath Pass state with Parameters, evaluated directly.

The state's data flow (InputPath, Parameters, Result, ResultPath, OutputPath) is applied with the pure
functions of :mod:`stepdance.asl.jsonpath` and :mod:`stepdance.asl.payload`; the output, or the error and
cause (with the prefix the interpreter adds), is normalised and compared by the corpus's own ``check.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from stepdance.asl.errors import StatesError
from stepdance.asl.jsonpath import apply_result_path, select
from stepdance.asl.payload import evaluate_template
from stepdance.asl.scope import Scope

CORPUS = Path(os.environ.get("STEPDANCE_CONFORMANCE", "/work/shared/conformance"))
REGION, ACCOUNT = "us-east-1", "123456789012"
SM_NAME = "statemachine_0a1b2c3d4e5f"
EXEC_NAME = "5b0f6a2e-8c3d-4b7e-9f10-2a3b4c5d6e7f"
SM_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{SM_NAME}"
EXEC_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{SM_NAME}:{EXEC_NAME}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/stepdance-test"
STARTED = "2024-05-01T12:00:00.000Z"


def _check_module() -> ModuleType | None:
    source = CORPUS / "check.py"
    if not source.exists():
        return None
    spec = importlib.util.spec_from_file_location("conformance_check", source)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _single_pass_cases() -> list[Path]:
    found = []
    for path in sorted((CORPUS / "asl").glob("*.json")):
        definition = json.loads(path.read_text())["definition"]
        states = list(definition.get("States", {}).values())
        if len(states) != 1 or states[0].get("Type") != "Pass" or "Parameters" not in states[0]:
            continue
        if "JSONata" in (definition.get("QueryLanguage"), states[0].get("QueryLanguage")):
            continue
        found.append(path)
    return found


CHECK = _check_module()
CASES = _single_pass_cases() if CHECK else []


def _context(state_name: str, execution_input: Any) -> dict[str, Any]:
    return {
        "Execution": {
            "Id": EXEC_ARN,
            "Input": execution_input,
            "StartTime": STARTED,
            "Name": EXEC_NAME,
            "RoleArn": ROLE_ARN,
            "RedriveCount": 0,
        },
        "StateMachine": {"Id": SM_ARN, "Name": SM_NAME},
        "State": {"EnteredTime": STARTED, "Name": state_name, "RetryCount": 0},
    }


def _run_pass(state: dict[str, Any], state_input: Any, scope: Scope) -> Any:
    value = (
        select(state["InputPath"], state_input, scope, field="InputPath")
        if "InputPath" in state
        else state_input
    )
    result = evaluate_template(state["Parameters"], value, scope)
    if "Result" in state:
        result = state["Result"]
    output = apply_result_path(state.get("ResultPath", "$"), state_input, result)
    if "OutputPath" in state:
        output = select(state["OutputPath"], output, scope, field="OutputPath")
    return output


def _normalised(case: dict[str, Any], details_key: str, raw: dict[str, Any]) -> dict[str, Any]:
    assert CHECK is not None
    names = CHECK.Names(SM_ARN, EXEC_ARN, ROLE_ARN)
    doc = {"events": [{details_key: raw}]}
    normalised: dict[str, Any] = CHECK.normalise(doc, case["normalisation"]["transformers"], names)
    return normalised["events"][0][details_key]  # type: ignore[no-any-return]


def _problems(case: dict[str, Any]) -> list[str]:
    assert CHECK is not None
    ((state_name, state),) = case["definition"]["States"].items()
    state_input = json.loads(case["input_text"])
    scope = Scope(_context(state_name, state_input), {}, random.Random(7))
    expected = case["expected"]
    try:
        output = _run_pass(state, state_input, scope)
    except StatesError as failure:
        prefix = f"An error occurred while executing the state '{state_name}' (entered at the event id #2). "
        got = _normalised(
            case,
            "executionFailedEventDetails",
            {"error": failure.error, "cause": prefix + (failure.cause or "")},
        )
        if expected["status"] != "FAILED":
            return [f"failed unexpectedly: {failure.error}: {failure.cause}"]
        return [
            p
            for field in ("error", "cause")
            if field in expected
            for p in CHECK.diff(
                CHECK.canonical_placeholders(expected[field]),
                CHECK.canonical_placeholders(got.get(field)),
                field,
            )
        ]
    if expected["status"] != "SUCCEEDED":
        return [
            f"succeeded with {json.dumps(output)}, expected {expected.get('error')}: {expected.get('cause')}"
        ]
    got = _normalised(case, "executionSucceededEventDetails", {"output": json.dumps(output)})
    _, got_output = CHECK._maybe_json(got["output"])
    diff: list[str] = CHECK.diff(
        CHECK.canonical_placeholders(expected["output"]), CHECK.canonical_placeholders(got_output), "output"
    )
    return diff


@pytest.mark.skipif(CHECK is None, reason=f"conformance corpus not found at {CORPUS}")
@pytest.mark.parametrize("case_file", CASES, ids=[path.stem[:90] for path in CASES])
def test_single_pass_state_case(case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    assert _problems(case) == []


@pytest.mark.skipif(CHECK is None, reason=f"conformance corpus not found at {CORPUS}")
def test_corpus_has_the_single_pass_cases() -> None:
    assert len(CASES) >= 100  # guards against a filter that silently selects nothing
