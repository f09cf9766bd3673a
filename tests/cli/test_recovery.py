"""The recovery commands on what a real run left: dead letters listed, shown and redriven; failed
executions listed, described, redriven and stopped; an order's whole path; and one clear line for a name
or a directory that is not there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stepdance.cli.main import app

BROKEN_REFUNDS = """\
name: broken-refunds
workload: {orders: 12, concurrency: 4}
retry_scale: 0.02
faults:
  - kind: out_of_stock
    when: {probability: 0.3}
  - kind: compensation_failure
    target: payment.refund
    mode: permanent
expect: {completed: workload, cancelled: 0, intervention: 4}
"""


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), terminal_width=200)


def _ran(tmp_path: Path, design: str) -> Path:
    """A scenario run whose refunds break for good (4 orders left for a person); its data directory."""
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(BROKEN_REFUNDS)
    done = _cli("scenarios", str(scenario), "--design", design, "--data-dir", str(tmp_path / "data"))
    assert done.exit_code == 0, done.output
    (where,) = (tmp_path / "data" / "scenarios" / "broken-refunds").iterdir()
    return where


def test_dead_letters_are_listed_shown_followed_to_their_order_and_redriven(tmp_path: Path) -> None:
    where = _ran(tmp_path, "choreographed")
    listed = _cli("dlq", "list", "--data-dir", str(where), "--json")
    assert listed.exit_code == 0, listed.output
    letters = json.loads(listed.stdout)["DeadLetters"]
    assert len(letters) == 4 and {x["ErrorCode"] for x in letters} == {"ServiceFailed"}
    shown = json.loads(_cli("dlq", "show", letters[0]["Id"], "--data-dir", str(where)).stdout)
    order_id = json.loads(shown["Event"])["detail"]["order"]["orderId"]

    path = json.loads(_cli("orders", "show", order_id, "--data-dir", str(where), "--json").stdout)["path"]
    said = [(step["where"], step["what"]) for step in path]
    assert said[0][0] == "orders" and said[0][1].startswith("placed (choreographed)")
    assert any(w == "payment ledger" and w_.startswith("charge +") for w, w_ in said)
    assert any(w == "inventory" and "rejected" in w_ for w, w_ in said)
    assert any(w.startswith("bus") and "dead letter" in w_ and "ServiceFailed" in w_ for w, w_ in said)
    assert [s["at"] for s in path] == sorted(s["at"] for s in path)
    assert order_id in _cli("orders", "show", order_id, "--data-dir", str(where)).output

    redriven = _cli("dlq", "redrive", letters[0]["Id"], "--data-dir", str(where))
    assert redriven.exit_code == 0 and "redriven: 1" in redriven.output
    left = json.loads(_cli("dlq", "list", "--data-dir", str(where), "--json").stdout)["DeadLetters"]
    assert [x["Id"] for x in left] == [x["Id"] for x in letters[1:]]


def test_failed_executions_are_listed_described_redriven_and_stopped(tmp_path: Path) -> None:
    where = _ran(tmp_path, "orchestrated")
    listed = _cli("executions", "list", "--status", "FAILED", "--data-dir", str(where), "--json")
    assert listed.exit_code == 0, listed.output
    failed = json.loads(listed.stdout)["executions"]
    assert len(failed) == 4
    arn = failed[0]["executionArn"]
    described = json.loads(_cli("executions", "describe", arn, "--data-dir", str(where)).stdout)
    assert (described["status"], described["error"], described["redriveStatus"]) == (
        "FAILED",
        "ServiceFailed",
        "REDRIVABLE",
    )
    path = json.loads(_cli("orders", "show", failed[0]["name"], "--data-dir", str(where), "--json").stdout)
    assert any("ExecutionFailed" in step["what"] for step in path["path"])

    assert "redriven at" in _cli("executions", "redrive", arn, "--data-dir", str(where)).output
    again = json.loads(_cli("executions", "describe", arn, "--data-dir", str(where)).stdout)
    assert (again["status"], again["redriveCount"]) == ("RUNNING", 1)  # no worker here: it waits for one
    # the stop is queued in the store, durable, for the worker that owns the execution (none runs here)
    assert "stop queued" in _cli("executions", "stop", arn, "--data-dir", str(where)).output
    other = failed[1]["executionArn"]
    assert "not redrivable" not in _cli("executions", "stop", other, "--data-dir", str(where)).output.lower()
    assert (
        json.loads(_cli("executions", "describe", other, "--data-dir", str(where)).stdout)["status"]
        == "FAILED"
    )


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("executions", "describe", "nope"), 1, "InvalidArn"),
        (("dlq", "show", "nope"), 1, "ResourceNotFoundException: Dead letter nope does not exist."),
        (("orders", "show", "o-1"), 2, "no services' databases in"),
        (("executions", "list", "--state-machine", "missing"), 1, "no state machine 'missing'"),
    ],
)
def test_what_is_not_there_is_one_line(args: tuple[str, ...], code: int, said: str, tmp_path: Path) -> None:
    done = _cli(*args, "--data-dir", str(tmp_path))
    assert done.exit_code == code, done.output
    assert said in done.output and "Traceback" not in done.output
