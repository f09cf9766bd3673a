"""``stepdance conformance patterns``: the same contract as ``conformance asl``, by expected outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stepdance.cli.main import app
from tests.bus.patterns_helpers import event

REFUSED = 'Event pattern is not valid. Reason: "a" must be an object or an array'


def _case(name: str, pattern: Any, expected: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"tests/p.py::{name}", "area": "event-patterns", "event": event(a="x"), "pattern": pattern,
            "expected": expected, **extra}  # fmt: skip


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    written = [
        _case("matches", {"a": ["x"]}, "match"),
        _case("wrong_verdict", {"a": ["y"]}, "match"),
        _case(
            "refused", {"a": "x"}, "invalid", error_code="InvalidEventPatternException", error_message=REFUSED
        ),
        _case(
            "wrong_message", {"a": []}, "invalid", error_message="Event pattern is not valid. Reason: nope"
        ),
        {**_case("bad_event", {"a": ["x"]}, "invalid", error_code="ValidationException"), "event_text": "[]"},
    ]
    for number, case in enumerate(written):
        (tmp_path / f"case{number}.json").write_text(json.dumps(case))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "execution.json").write_text(json.dumps({"id": "x", "definition": {}, "input_text": "{}",
                                                        "expected": {}}))  # fmt: skip
    return tmp_path


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, ["conformance", "patterns", *args])
    assert result.exit_code == 0, result.output
    return result


def test_json_counts_by_expected_outcome_and_names_the_failures(cases: Path) -> None:
    report = json.loads(invoke("--cases", str(cases), "--json").stdout)
    assert (report["passed"], report["failed"], report["total"]) == (3, 2, 5)
    assert report["failing"] == ["tests/p.py::wrong_verdict", "tests/p.py::wrong_message"]
    assert report["by_area"] == {
        "invalid": {"passed": 2, "failed": 1, "total": 3},
        "match": {"passed": 1, "failed": 1, "total": 2},
    }
    assert report["patterns"]["total"] == 5
    assert [u["path"].rsplit("/", 1)[-1] for u in report["unreadable"]] == ["broken.json"]


def test_tables_show_totals_and_differences(cases: Path) -> None:
    output = invoke("--cases", str(cases), "--show-failures", "5").stdout
    assert "Conformance by expected outcome" in output
    assert "Event patterns: 3/5 passed (60.0%)" in output
    assert "FAIL tests/p.py::wrong_verdict" in output
    assert "expected match, got no_match" in output
    assert "error_message differs: expected 'Event pattern is not valid. Reason: nope'" in output


def test_only_selects_by_id(cases: Path) -> None:
    report = json.loads(invoke("--cases", str(cases), "--json", "--only", "refused").stdout)
    assert (report["total"], report["failed"]) == (1, 0)


def test_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["conformance", "patterns", "--cases", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "cannot read cases folder" in result.stderr
