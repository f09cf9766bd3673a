"""``stepdance demo``: the three designs side by side on the embedded default, from a fresh directory."""

import re
from pathlib import Path

import httpx
from typer.testing import CliRunner

from stepdance.cli.main import app
from tests.api.served import serving


def test_demo_runs_the_four_designs_and_finds_the_services_consistent(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--orders", "30", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for design in ("orchestrated", "choreographed", "hybrid"):
        assert design in result.output
        where = tmp_path / "demo" / design
        assert (where / "orders.db").exists() and (where / "payment.db").exists()
    assert (tmp_path / "demo" / "orchestrated" / "engine.db").exists()
    assert (tmp_path / "demo" / "choreographed" / "bus.db").exists()
    assert result.output.count("consistent") == 4 and "problems" not in result.output
    assert "wrote:" in result.output
    report = tmp_path / "report"
    assert (report / "report.html").exists() and (report / "report.md").exists()
    assert "recommendation with the default priorities:" in result.output
    assert "".join(result.output.split()).count("report.html") == 1  # rich may fold a long path anywhere
    # the dashboard of a server on the same data directory shows the scenario runs and the report
    with serving(tmp_path) as served, httpx.Client(base_url=served.url, timeout=30) as web:
        scenarios = web.get("/dashboard/scenarios").text
        kept = re.search(r"(\d+) of (\d+) runs kept every invariant", scenarios)
        assert kept is not None and kept.group(1) == kept.group(2) != "0", scenarios
        assert scenarios.count('class="status succeeded">passed') == int(kept.group(2))
        assert web.get("/dashboard/report").text == (report / "report.html").read_text(encoding="utf-8")


def test_demo_names_a_data_directory_it_cannot_use(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, ["demo", "--orders", "5", "--data-dir", str(blocker)])
    assert result.exit_code == 2, result.exception
    assert "cannot use the data directory" in " ".join(result.output.split())
