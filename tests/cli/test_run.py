"""``stepdance run``: one design, a workload mix, the counts against what the workload must give; and a
clear line, never a traceback, for a wrong flag or an unreachable server."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepdance.cli.main import app


@pytest.mark.parametrize("design", ["orchestrated", "choreographed", "hybrid"])
def test_run_places_the_orders_and_reports_them(design: str, tmp_path: Path) -> None:
    args = ["run", "--design", design, "--orders", "40", "--data-dir", str(tmp_path), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["design"] == design and report["undecided"] == 0
    assert (report["completed"], report["cancelled"]) == (
        report["expected"]["completed"],
        report["expected"]["cancelled"],
    )
    assert report["ordersPerSecond"] > 0 and report["p99Ms"] >= report["p50Ms"] > 0


def test_run_prints_a_table_with_latencies(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "--design", "orchestrated", "--orders", "10", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    for label in ("completed", "cancelled", "p50 latency", "p99 latency", "orders/s"):
        assert label in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--design", "sideways"], "'sideways' is not one of"),
        (["--design", "hybrid", "--orders", "0"], "--orders"),
        (["--design", "hybrid", "--orders", "many"], "--orders"),
        (
            ["--design", "choreographed", "--bus", "nats://127.0.0.1:1"],
            "cannot reach the bus at nats://127.0.0.1:1",
        ),
        (
            ["--design", "choreographed", "--bus", "carrier-pigeon://x"],
            "cannot open the bus at carrier-pigeon://x",
        ),
        (
            ["--design", "orchestrated", "--store", "postgresql://127.0.0.1:1/x"],
            "cannot reach the engine store",
        ),
        (
            ["--design", "hybrid", "--services", "postgresql://127.0.0.1:1/x"],
            "cannot reach the services' databases",
        ),
    ],
)
def test_a_wrong_flag_or_address_is_one_clear_line(args: list[str], said: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", *args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_data_directory_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, ["run", "--design", "orchestrated", "--data-dir", str(blocker / "sub")])
    assert result.exit_code == 2, result.exception
    assert "cannot use the data directory" in " ".join(result.output.split())
