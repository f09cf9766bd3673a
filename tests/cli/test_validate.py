"""``stepdance validate FILE`` on real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from stepdance.cli.main import app

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}
INVALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Task"}}}


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, ["validate", *args])


def _write(tmp_path: Path, content: str | dict[str, Any], name: str = "machine.asl.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def test_a_valid_definition_says_ok_and_exits_0(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID)
    result = _run(str(path))
    assert result.exit_code == 0
    assert result.output.strip() == f"OK: {path} is a valid state machine definition"


def test_every_problem_is_printed_with_its_location_and_the_exit_code_is_1(tmp_path: Path) -> None:
    result = _run(str(_write(tmp_path, INVALID)))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "SCHEMA_VALIDATION_FAILED: This object should have only one of the following fields: [Next, End] "
        "at /States/B",
        "SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/B",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next",
        "MISSING_END_STATE: Workflow has no terminal state at /",
    ]


def test_warnings_alone_do_not_fail(tmp_path: Path) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a": "$.b"}, "End": True}}}
    result = _run(str(_write(tmp_path, definition)))
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("NO_DOLLAR: ")
    assert result.output.splitlines()[-1].startswith("OK: ")


def test_invalid_json_shows_line_and_column(tmp_path: Path) -> None:
    result = _run(str(_write(tmp_path, '{\n  "StartAt": "A",\n  "States": {,}\n}')))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "INVALID_JSON_DESCRIPTION: Unexpected character (',' (code 44)): was expecting double-quote to start "
        "field name at line: 3, column: 15"
    )


def test_json_output_is_shaped_like_validate_state_machine_definition(tmp_path: Path) -> None:
    result = _run("--json", str(_write(tmp_path, INVALID)))
    assert result.exit_code == 1
    response = json.loads(result.output)
    assert response["result"] == "FAIL"
    assert response["diagnostics"][2] == {
        "severity": "ERROR",
        "code": "MISSING_TRANSITION_TARGET",
        "message": "Missing 'Next' target: Nowhere",
        "location": "/States/A/Next",
    }
    ok = _run("--json", str(_write(tmp_path, VALID, "ok.json")))
    assert ok.exit_code == 0
    assert json.loads(ok.output) == {"result": "OK", "diagnostics": []}


def test_json_output_omits_an_absent_location(tmp_path: Path) -> None:
    result = _run("--json", str(_write(tmp_path, "[]")))
    assert json.loads(result.output)["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Definition must be a valid JSON object",
        }
    ]


def test_a_missing_file_is_a_clear_error_with_exit_code_2(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_a_directory_or_binary_file_is_unreadable(tmp_path: Path) -> None:
    assert _run(str(tmp_path)).exit_code == 2
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = _run(str(binary))
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output


def test_the_command_needs_a_file() -> None:
    result = _run()
    assert result.exit_code == 2


WORKFLOW = """main:
  params: [args]
  steps:
    - charge:
        call: http.post
        args:
          url: ${"http://payment/charges/" + args.orderId}
        result: paid
        next: refnd
    - refund:
        return: ${paid}
"""


def test_a_workflows_definition_is_validated_with_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, WORKFLOW, "order.yaml")
    result = _run(str(path))
    assert result.exit_code == 1
    assert "line 9: main.steps[0].charge.next: next names 'refnd'" in " ".join(result.output.split())
    assert "[UNKNOWN_NEXT]" in result.output
    as_json = json.loads(_run(str(path), "--json").output)
    assert as_json["result"] == "FAIL" and as_json["problems"][0]["line"] == 9


def test_a_valid_workflows_definition_says_ok(tmp_path: Path) -> None:
    path = _write(tmp_path, WORKFLOW.replace("next: refnd", "next: refund"), "order.yml")
    result = _run(str(path))
    assert result.exit_code == 0 and "valid Cloud Workflows definition" in result.output
