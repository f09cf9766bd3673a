"""``stepdance scenarios``: the matrix and its JSON, exit 1 on a broken expectation or invariant, and a bad
file named by line and field before anything runs."""

import json
from pathlib import Path

from typer.testing import CliRunner

from stepdance.cli.main import app
from stepdance.faults import catalog_files

GOOD = "name: small\nworkload: {orders: 8, concurrency: 4}\nexpect: {completed: 8, cancelled: 0}\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_json_holds_one_run_per_scenario_and_design(tmp_path: Path) -> None:
    path = _write(tmp_path, "small.yaml", GOOD)
    args = ["scenarios", str(path), "--data-dir", str(tmp_path / "data"), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["passed"] is True
    assert [(r["scenario"], r["design"]) for r in report["runs"]] == [
        ("small", "orchestrated"),
        ("small", "choreographed"),
        ("small", "hybrid"),
        ("small", "workflows"),
    ]
    assert all(r["violations"] == [] and r["messages"] == 8 for r in report["runs"])


def test_the_matrix_shows_each_design_and_a_missed_expectation_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, "wrong.yaml", GOOD.replace("completed: 8", "completed: 7"))
    args = ["scenarios", str(path), "--design", "choreographed", "--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 1
    assert "choreographed" in result.output and "FAIL" in result.output
    assert "completed: 8, expected 7" in result.output


def test_a_bad_file_among_good_ones_stops_everything_before_it_runs(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.yaml", "name: bad\nworkload:\n  orders: 3\n  speed: fast\n")
    args = ["scenarios", str(catalog_files()[0]), str(bad), "--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "bad.yaml:4: /workload/speed: unknown field 'speed'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "data").exists()  # nothing ran


def test_doc_writes_the_failure_and_recovery_plan_from_the_run(tmp_path: Path) -> None:
    path = _write(tmp_path, "small.yaml", GOOD)
    out = tmp_path / "plan.md"
    args = [
        "scenarios",
        str(path),
        "--design",
        "hybrid",
        "--data-dir",
        str(tmp_path / "data"),
        "--doc",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "1 of 1 runs passed" in text and "## small" in text
    assert "| hybrid | 8 completed, 0 cancelled | hold | nothing to recover |" in text
