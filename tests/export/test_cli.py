"""``stepdance export aws`` through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from stepdance.cli.main import app
from stepdance.export import DESIGNS


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, ["export", "aws", *args])


def _flat(text: str) -> str:
    """``text`` without whitespace: rich may wrap a message inside its box anywhere there is a space."""
    return "".join(text.split())


def test_all_designs_are_written_by_default(tmp_path: Path) -> None:
    result = _run("--out", str(tmp_path / "aws"))
    assert result.exit_code == 0, result.output
    for design in DESIGNS:
        template = tmp_path / "aws" / design / "template.yaml"
        assert yaml.safe_load(template.read_text())["Transform"] == "AWS::Serverless-2016-10-31"
        assert (tmp_path / "aws" / design / "functions" / "requirements.txt").is_file()
        assert _flat(str(template)) in _flat(result.output)
    assert "sam deploy --guided --template-file" in result.output


def test_one_design_writes_only_that_one(tmp_path: Path) -> None:
    result = _run("--design", "hybrid", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hybrid"]


def test_an_unknown_design_exits_2_naming_the_valid_ones(tmp_path: Path) -> None:
    result = _run("--design", "serverless", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for name in (*DESIGNS, "all"):
        assert f"'{name}'" in _flat(result.output)
    assert list(tmp_path.iterdir()) == []


def test_an_out_that_is_a_file_exits_2(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    for out in (taken, taken / "below"):
        result = _run("--out", str(out))
        assert result.exit_code == 2
        assert "afile:giveadirectory" in _flat(result.output)
        assert "Traceback" not in result.output
    assert taken.read_text() == "not a directory"
