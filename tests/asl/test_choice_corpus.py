"""Every input/output pair of the Choice conformance corpus, evaluated through :func:`choose`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepdance.asl.choice import choose
from stepdance.asl.scope import Scope

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "choice"


def _pairs() -> list[Any]:
    params = []
    for case_file in sorted(CORPUS.glob("*.json")):
        case = json.loads(case_file.read_text())
        for index, pair in enumerate(case["pairs"]):
            definition = pair.get("definition") or case["definition"]
            params.append(pytest.param(definition, pair, id=f"{case_file.stem}[{index}]"))
    return params


PAIRS = _pairs()


def _branch(definition: dict[str, Any], value: Any) -> str:
    state = definition["States"][definition["StartAt"]]
    rule = choose(state["Choices"], value, Scope())
    return rule["Next"] if rule is not None else state["Default"]


@pytest.mark.skipif(not PAIRS, reason=f"the Choice corpus is not at {CORPUS}")
@pytest.mark.parametrize(("definition", "pair"), PAIRS)
def test_choice_pair_takes_the_branch_aws_took(definition: dict[str, Any], pair: dict[str, Any]) -> None:
    expected = pair["expected"]["output"]["TestResult.$"]
    assert _branch(definition, json.loads(pair["input_text"])) == expected


def test_the_corpus_has_all_its_pairs() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the Choice corpus is not at {CORPUS}")
    assert len(PAIRS) >= 288
