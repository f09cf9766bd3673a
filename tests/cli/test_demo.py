"""``stepdance demo``: the three designs side by side on the embedded default, from a fresh directory."""

from pathlib import Path

from typer.testing import CliRunner

from stepdance.cli.main import app


def test_demo_runs_the_three_designs_and_finds_the_services_consistent(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--orders", "30", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for design in ("orchestrated", "choreographed", "hybrid"):
        assert design in result.output
        where = tmp_path / "demo" / design
        assert (where / "orders.db").exists() and (where / "payment.db").exists()
    assert (tmp_path / "demo" / "orchestrated" / "engine.db").exists()
    assert (tmp_path / "demo" / "choreographed" / "bus.db").exists()
    assert result.output.count("consistent") == 3 and "problems" not in result.output
    assert "wrote:" in result.output
    report = tmp_path / "report"
    assert (report / "report.html").exists() and (report / "report.md").exists()
    assert "recommendation with the default priorities:" in result.output
    assert " ".join(result.output.split()).count("report.html") == 1


def test_demo_names_a_data_directory_it_cannot_use(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, ["demo", "--orders", "5", "--data-dir", str(blocker)])
    assert result.exit_code == 2, result.exception
    assert "cannot use the data directory" in " ".join(result.output.split())
