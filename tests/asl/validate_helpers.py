"""Small builders shared by the validation tests."""

from __future__ import annotations

import json
from typing import Any

from stepdance.asl.validate import validate_text


def machine(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def single(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A machine whose only state is ``state`` (named S), ending unless it says otherwise."""
    body = (
        {"End": True, **state} if state.get("Type") in ("Pass", "Task", "Wait", "Parallel", "Map") else state
    )
    if "Next" in state:
        body.pop("End", None)
    return machine({"S": body}, **top)


def errors(definition: dict[str, Any] | str) -> list[str]:
    """Every ERROR as ``CODE: message at location``."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    return [str(problem) for problem in validate_text(text) if problem.severity == "ERROR"]


def warnings(definition: dict[str, Any]) -> list[str]:
    return [
        str(problem) for problem in validate_text(json.dumps(definition)) if problem.severity == "WARNING"
    ]


PASS_END = {"Type": "Pass", "End": True}
SUCCEED = {"Type": "Succeed"}
