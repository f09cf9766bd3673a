"""The report, for real and from a saved run: its sections, a self-contained page, every figure taken from
the run it was written from, and the recommendation following the priorities."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepdance.cli.main import app
from stepdance.cli.report import write
from stepdance.faults import parse_scenario
from stepdance.report.decision import DEFAULT_PRIORITIES
from stepdance.report.gather import DesignRun, Gathered, gather
from stepdance.settings import Settings

SECTIONS = [
    "## Recommendation",
    "## The designs",
    "## Throughput and latency",
    "## Failure scenarios and recovery",
    "## Following an order",
    "## Coupling and change impact",
    "## Decision matrix",
]


@pytest.mark.timeout(180)
async def test_a_report_from_a_real_run_has_every_section_and_only_the_runs_figures(tmp_path: Path) -> None:
    tiny = parse_scenario(
        "name: tiny-errors\nworkload: {orders: 8, concurrency: 4}\nfaults:\n"
        "  - {kind: error, target: payment, mode: transient, when: {calls: [2]}}\n"
    )
    found = await gather(Settings(data_dir=tmp_path / "runs"), 30, [tiny])
    out = tmp_path / "report"
    out.mkdir()
    found.save(out / "report.json")
    chosen = write(found, DEFAULT_PRIORITIES, out)
    text = (out / "report.md").read_text()
    assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    assert chosen.split(" ")[0] in ("orchestrated", "choreographed", "hybrid", "workflows")
    assert f"**{chosen}.**" in text
    saved = json.loads((out / "report.json").read_text())
    for design, run in saved["runs"].items():
        assert run["completed"] + run["cancelled"] == 30
        row = f"| {design} | {run['completed']} / {run['cancelled']} | {run['orders_per_second']:.0f} |"
        assert row in text  # the throughput table is the run's
        assert f"`stepdance trace {run['example_order']}`" in text and run["spans_per_order"] > 5
        assert "engine" in run["components"] or design == "choreographed"
    assert len(saved["outcomes"]) == 4 and "tiny-errors" in text
    assert f"{len(saved['outcomes'])} runs (1 scenarios on each design)" in text
    page = (out / "report.html").read_text()
    assert page.count("<svg") >= 10 and "<script" not in page.lower()
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing fetched: no CDN, no font
    assert {p.name for p in (out / "figures").iterdir()} >= {"throughput.svg", "latency.svg", "recovery.svg"}


def _saved(tmp_path: Path) -> Path:
    """A report.json as a run would save it (figures chosen so the priorities decide)."""

    def run(design: str, rate: float) -> DesignRun:
        return DesignRun(
            design, 100, 90, 10, rate, 50.0, 400.0, [0.05] * 100, 14.0, ["orders", "payment"], "o-1"
        )

    found = Gathered(
        "today",
        "a test machine",
        100,
        {d: run(d, r) for d, r in (("orchestrated", 300.0), ("choreographed", 290.0), ("hybrid", 280.0))},
        [],
    )
    found.save(tmp_path / "report.json")
    return tmp_path


def test_the_priorities_can_change_the_recommendation(tmp_path: Path) -> None:
    out = _saved(tmp_path)
    runner = CliRunner()
    default = runner.invoke(app, ["report", "--reuse", "--out", str(out)])
    assert default.exit_code == 0, default.output
    assert "recommendation: orchestrated" in default.output
    autonomy = (
        "team-autonomy=high,loose-coupling=high,audit=none,debugging=none,step-order=none,testability=none"
    )
    changed = runner.invoke(app, ["report", "--reuse", "--out", str(out), "--priorities", autonomy])
    assert changed.exit_code == 0, changed.output
    assert "recommendation: choreographed" in changed.output
    text = (out / "report.md").read_text()
    assert "**choreographed (weighted score" in text and "What it gives up:" in text
    assert "team-autonomy=high" in text


def test_bad_priorities_and_a_missing_run_are_refused_with_what_is_valid(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        app, ["report", "--reuse", "--out", str(_saved(tmp_path)), "--priorities", "speed=high"]
    )
    assert bad.exit_code == 2
    assert "unknown criterion 'speed': one of step-order, team-autonomy" in " ".join(bad.output.split())
    weight = runner.invoke(app, ["report", "--reuse", "--out", str(tmp_path), "--priorities", "audit=max"])
    assert weight.exit_code == 2 and "none, low, medium, high" in weight.output
    missing = runner.invoke(app, ["report", "--reuse", "--out", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
