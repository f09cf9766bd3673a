"""Our normaliser and comparer agree with the corpus's reference checker (``check.py``) on every case.

Each case's expected history is turned back into something an engine could have produced (names, ids,
dates, JSON texts and Parallel quirks undone), then perturbed; both checkers must reach the same verdict on
every variant. ``check.py`` is imported here only, by path, as a reference.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stepdance.conformance.cases import ExecutionCase
from stepdance.conformance.compare import ActualExecution, compare_execution
from tests.conformance.corpus import CORPUS, reference_checker

ACCOUNT, REGION = "123456789012", "us-east-1"
SM_NAME, EXEC_NAME = "statemachine_0123456789ab", "6f1f0b7e-5b7c-4a4e-9d51-0f3a3c1d2e4f"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/stepdance"
DETAILS_OBJECTS = {"inputDetails", "outputDetails", "assignedVariablesDetails"}


REFERENCE = reference_checker()
CASES = sorted((CORPUS / "asl").glob("*.json")) if REFERENCE else []
pytestmark = pytest.mark.skipif(REFERENCE is None, reason=f"the reference checker is not at {CORPUS}")


# --------------------------------------------------------------------------- un-normalising


def _unmask_text(text: str, case: dict[str, Any]) -> str:
    for t in case["normalisation"]["transformers"]:
        if t["type"] == "execution_name":
            text = text.replace(t["replacement"], EXEC_NAME)
    text = text.replace("<ArnPart_0idx>", SM_NAME).replace("snf_role_arn", ROLE)
    text = text.replace("111111111111", ACCOUNT).replace("<region>", REGION)
    text = text.replace("arn:<partition>:", "arn:aws:").replace('"date"', '"2024-02-29T10:20:30.123Z"')
    return re.sub(r"<uuid:(\d+)>", lambda m: str(uuid.UUID(int=int(m[1]) * 7919 + 1)), text)


def _unmask(value: Any, case: dict[str, Any]) -> Any:
    return json.loads(_unmask_text(json.dumps(value), case))


def _as_text(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if key == "assignedVariables":
            details[key] = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in value.items()}
        elif key not in DETAILS_OBJECTS and isinstance(value, dict):
            details[key] = json.dumps(value, separators=(",", ":"))


def _raw_history(case: dict[str, Any]) -> list[dict[str, Any]]:
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    raw: list[dict[str, Any]] = []
    for event in _unmask(case["expected"]["history"], case):
        if event["type"] == "ParallelStateExited" and raw and raw[-1]["type"] != "ParallelStateSucceeded":
            raw.append({"id": event["id"] - 1, "previousEventId": 0, "type": "ParallelStateSucceeded"})
        raw.append(event)
    for index, event in enumerate(raw):
        if event["id"] == [0]:
            event["id"], event["previousEventId"] = 1000 + index, 999 + index
        event["timestamp"] = start + dt.timedelta(seconds=index)
        for value in event.values():
            if isinstance(value, dict):
                _as_text(value)
    return raw


def _raw_actual(case: dict[str, Any]) -> dict[str, Any]:
    expected = _unmask({k: v for k, v in case["expected"].items() if k != "history"}, case)
    if "output" in expected:
        expected["output"] = json.dumps(expected["output"])
    return {
        **expected,
        "history": _raw_history(case),
        "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{SM_NAME}",
        "executionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{SM_NAME}:{EXEC_NAME}",
    }


# --------------------------------------------------------------------------- perturbations


def _changed_output(actual: dict[str, Any]) -> None:
    """The first of output, error and cause that the case records is changed."""
    for field, changed in (("output", json.dumps({"perturbed": True})), ("error", "E"), ("cause", "C")):
        if field in actual:
            actual[field] = changed
            return


def _missing_event(actual: dict[str, Any]) -> None:
    del actual["history"][len(actual["history"]) // 2]


def _changed_status(actual: dict[str, Any]) -> None:
    actual["status"] = "FAILED" if actual["status"] == "SUCCEEDED" else "SUCCEEDED"


def _integral_floats(actual: dict[str, Any]) -> None:
    """1 -> 1.0 in the JSON texts of the first events: numbers compare by value, so no verdict changes."""
    for event in actual["history"][:3]:
        for details in event.values():
            if isinstance(details, dict) and isinstance(details.get("input"), str):
                details["input"] = re.sub(r"(?<=: )(\d+)(?=[,}])", r"\1.0", details["input"])


def _boolean_as_number(actual: dict[str, Any]) -> None:
    """inputDetails.truncated false -> 0: booleans compare strictly."""
    for event in actual["history"]:
        for details in event.values():
            if isinstance(details, dict) and "inputDetails" in details:
                details["inputDetails"] = {"truncated": 0}
                return


VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "as-recorded": lambda actual: None,
    "changed-output": _changed_output,
    "missing-event": _missing_event,
    "changed-status": _changed_status,
    "integral-floats": _integral_floats,
    "boolean-as-number": _boolean_as_number,
}


def _verdicts(case: dict[str, Any], variant: str) -> tuple[bool, bool]:
    actual = _raw_actual(case)
    VARIANTS[variant](actual)
    assert REFERENCE is not None
    theirs = not REFERENCE.check_execution(case, copy.deepcopy(actual))
    ours = not compare_execution(
        ExecutionCase.from_json(case),
        ActualExecution(
            status=actual["status"],
            output=actual.get("output"),
            error=actual.get("error"),
            cause=actual.get("cause"),
            history=actual["history"],
            state_machine_arn=actual["stateMachineArn"],
            execution_arn=actual["executionArn"],
        ),
    )
    return ours, theirs


@pytest.mark.parametrize("case_file", CASES, ids=[p.name[:-5] for p in CASES])
def test_our_verdicts_agree_with_the_reference_checker(case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    verdicts = {variant: _verdicts(case, variant) for variant in VARIANTS}
    disagreements = {variant: v for variant, v in verdicts.items() if v[0] != v[1]}
    assert not disagreements, f"(ours, check.py) per variant: {disagreements}"
    # the verdicts themselves, so that agreement cannot come from both checkers rejecting everything
    assert verdicts["as-recorded"] == verdicts["integral-floats"] == (True, True)
    assert verdicts["missing-event"] == verdicts["changed-status"] == (False, False)
    assert verdicts["boolean-as-number"] == (False, False)
    if {"output", "error", "cause"} & set(case["expected"]):
        assert verdicts["changed-output"] == (False, False)
