from pathlib import Path

from typer.testing import CliRunner

from stepdance.cli.main import app


def test_demo_runs_the_saga_durably_and_finds_the_services_consistent(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engine.db'}"
    result = CliRunner().invoke(app, ["demo", "--orders", "40", "--store", store])
    assert result.exit_code == 0, result.output
    assert "completed" in result.output
    assert "cancelled: payment declined" in result.output
    assert "consistent" in result.output and "INCONSISTENT" not in result.output
    assert "40 orders in" in result.output
    assert (tmp_path / "engine.db").exists()


def test_demo_names_an_unusable_store() -> None:
    result = CliRunner().invoke(app, ["demo", "--store", "ftp://nowhere"])
    assert result.exit_code == 2
    assert "cannot open the store ftp://nowhere" in result.output
