"""``stepdance conformance asl``: its output contract, on a small folder of cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepdance.cli.main import app
from tests.conformance.corpus import corpus_folder

EXECUTION_ID = "tests/a.py::test_pass"


def _execution_case(output: object) -> dict[str, object]:
    """A one-state Pass machine whose recorded output is ``output``."""
    history = [
        {"id": 1, "previousEventId": 0, "timestamp": "timestamp", "type": "ExecutionStarted",
         "executionStartedEventDetails": {"input": {}, "inputDetails": {"truncated": False},
                                          "roleArn": "snf_role_arn"}},
        {"id": 2, "previousEventId": 0, "timestamp": "timestamp", "type": "PassStateEntered",
         "stateEnteredEventDetails": {"input": {}, "inputDetails": {"truncated": False}, "name": "P"}},
        {"id": 3, "previousEventId": 2, "timestamp": "timestamp", "type": "PassStateExited",
         "stateExitedEventDetails": {"name": "P", "output": output, "outputDetails": {"truncated": False}}},
        {"id": 4, "previousEventId": 3, "timestamp": "timestamp", "type": "ExecutionSucceeded",
         "executionSucceededEventDetails": {"output": output, "outputDetails": {"truncated": False}}},
    ]  # fmt: skip
    return {
        "id": EXECUTION_ID,
        "area": "base",
        "definition": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}},
        "input_text": "{}",
        "expected": {"status": "SUCCEEDED", "output": output, "history": history},
        "normalisation": {"transformers": [{"type": "role_arn"}], "parallel_branch_events": False},
    }


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    (tmp_path / "right.json").write_text(json.dumps(_execution_case({"a": 1})))
    wrong = _execution_case({"a": 2}) | {"id": "tests/b.py::test_wrong"}
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    (tmp_path / "broken.json").write_text("{not json")
    choice = next(iter(sorted(corpus_folder("choice").glob("*.json"))))
    shutil.copy(choice, tmp_path / "choice.json")
    pattern = next(iter(sorted(corpus_folder("event-patterns").glob("*.json"))))
    shutil.copy(pattern, tmp_path / "pattern.json")
    return tmp_path


def test_json_output_is_one_object_with_totals_by_kind_and_area(cases: Path) -> None:
    result = CliRunner().invoke(app, ["conformance", "asl", "--cases", str(cases), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    pairs = report["choice_pairs"]["total"]
    assert pairs > 0
    assert report["executions"] == {
        "passed": 1,
        "failed": 1,
        "total": 2,
        "failing": ["tests/b.py::test_wrong"],
        "by_area": {"base": {"passed": 1, "failed": 1, "total": 2}},
    }
    assert report["choice_pairs"]["failed"] == 0
    assert (report["passed"], report["failed"], report["total"]) == (1 + pairs, 1, 2 + pairs)
    assert report["failing"] == ["tests/b.py::test_wrong"]
    assert report["by_area"]["base"] == {"passed": 1, "failed": 1, "total": 2}
    assert report["by_area"]["choiceoperators"]["total"] == pairs
    assert [u["path"].rsplit("/", 1)[-1] for u in report["unreadable"]] == ["broken.json"]


def test_tables_name_the_totals_and_the_failures(cases: Path) -> None:
    result = CliRunner().invoke(app, ["conformance", "asl", "--cases", str(cases), "--show-failures", "1"])
    assert result.exit_code == 0, result.output
    assert "ASL executions: 1/2 passed (50.0%)" in result.stdout
    assert "Choice pairs: " in result.stdout
    assert "FAIL tests/b.py::test_wrong" in result.stdout
    assert "expected 2, got 1" in result.stdout


def test_only_selects_cases_by_id(cases: Path) -> None:
    result = CliRunner().invoke(
        app, ["conformance", "asl", "--cases", str(cases), "--json", "--only", "b.py"]
    )
    report = json.loads(result.stdout)
    assert (report["total"], report["choice_pairs"]["total"]) == (1, 0)


def test_a_missing_folder_exits_2_with_a_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(app, ["conformance", "asl", "--cases", str(missing), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"cannot read cases folder {missing}: no such folder" in result.stderr
    assert "Traceback" not in result.output
