"""Every definition of the conformance corpus ran on AWS, so each must validate with no ERROR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepdance.asl.definition import Definition
from stepdance.asl.validate import validate_text

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def _definitions() -> list[Any]:
    params = [
        pytest.param(json.loads(path.read_text())["definition"], id=f"asl/{path.stem}")
        for path in sorted((CONFORMANCE / "asl").glob("*.json"))
    ]
    # A Choice pair ran with its own definition when it has one (the case's is then only a template).
    for path in sorted((CONFORMANCE / "choice").glob("*.json")):
        case = json.loads(path.read_text())
        for index, pair in enumerate(case["pairs"]):
            definition = pair.get("definition") or case["definition"]
            params.append(pytest.param(definition, id=f"choice/{path.stem}[{index}]"))
    return params


DEFINITIONS = _definitions()


@pytest.mark.skipif(not DEFINITIONS, reason=f"the conformance corpus is not at {CONFORMANCE}")
@pytest.mark.parametrize("definition", DEFINITIONS)
def test_definition_that_ran_on_aws_has_no_error(definition: dict[str, Any]) -> None:
    errors = [
        str(problem) for problem in validate_text(json.dumps(definition)) if problem.severity == "ERROR"
    ]
    assert errors == []


@pytest.mark.skipif(not DEFINITIONS, reason=f"the conformance corpus is not at {CONFORMANCE}")
def test_every_corpus_definition_parses() -> None:
    for param in DEFINITIONS:
        (definition,) = param.values
        Definition.parse(definition)
