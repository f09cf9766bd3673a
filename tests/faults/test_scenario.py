"""Scenario files: what they declare, and every mistake named with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepdance.faults import ScenarioError, catalog, catalog_files, load_scenario, parse_scenario
from stepdance.faults.scenario import DESIGNS
from stepdance.order.faults import Rule

FULL = """\
name: refund-trouble
description: the first refunds fail twice
designs: [orchestrated, choreographed]
workload: {orders: 30, concurrency: 8, seed: 3}
faults:
  - kind: out_of_stock
    when: {probability: 0.2}
  - kind: compensation_failure
    target: payment
    when: {calls: [1, 2]}
  - kind: latency
    target: inventory.reserve
    seconds: 0.25
    when: {window: [1, 2.5]}
recover: [redrive]
retry_scale: 0.05
expect:
  completed: workload
  cancelled: 6
  seconds: 30
  designs:
    choreographed: {intervention: 2}
"""


def test_a_scenario_declares_its_designs_workload_faults_and_expectations() -> None:
    scenario = parse_scenario(FULL, "refund.yaml")
    assert scenario.name == "refund-trouble"
    assert scenario.designs == ("orchestrated", "choreographed")
    assert (scenario.workload.orders, scenario.workload.concurrency, scenario.workload.seed) == (30, 8, 3)
    assert scenario.workload.out_of_stock_rate == 0.2 and scenario.workload.decline_rate == 0.0
    assert scenario.rules == (
        Rule("payment", "refund", "transient", calls=frozenset({1, 2})),
        Rule("inventory", "reserve", "latency", seconds=0.25, window=(1.0, 2.5)),
    )
    assert [f.line for f in scenario.faults] == [6, 8, 11]
    assert (scenario.recover, scenario.retry_scale) == (("redrive",), 0.05)
    assert scenario.expectation("orchestrated").cancelled == 6
    assert scenario.expectation("orchestrated").intervention == 0
    choreographed = scenario.expectation("choreographed")
    assert (choreographed.cancelled, choreographed.intervention, choreographed.seconds) == (6, 2, 30.0)


def test_delivery_faults_declare_duplicates_reordering_and_poison() -> None:
    scenario = parse_scenario(
        "name: deliveries\nworkload: {orders: 5}\nfaults:\n"
        "  - {kind: duplicate, when: {probability: 0.3}}\n"
        "  - {kind: duplicate, target: payment, when: {probability: 0.5}}\n"
        "  - {kind: out_of_order, when: {probability: 0.2}, seconds: 0.3}\n"
        "  - {kind: malformed, count: 3}\n"
    )
    bus, charge, held, poison = scenario.faults
    assert (bus.target, bus.rate, charge.target, charge.rate) == ("bus", 0.3, "payment.charge", 0.5)
    assert (held.target, held.rate, held.seconds, poison.count) == ("bus", 0.2, 0.3, 3)
    assert scenario.rules == ()
    assert [f.describe() for f in scenario.faults] == [
        "duplicate: 30% of the messages on the bus delivered twice",
        "duplicate: 50% of the calls of payment.charge delivered twice",
        "out of order: 20% of the messages on the bus held back 0.3 s",
        "3 malformed orders among the good ones",
    ]


def test_a_broker_restart_is_a_window_of_the_bus_being_down() -> None:
    scenario = parse_scenario(
        "name: restart\nworkload: {orders: 5}\nfaults:\n  - {kind: broker_restart, when: {window: [1, 3]}}\n"
    )
    (fault,) = scenario.faults
    assert (fault.kind, fault.target, fault.window) == ("broker_restart", "bus", (1.0, 3.0))
    assert fault.describe() == "the broker (a private NATS server) killed at 1 s, back at 3 s"


def test_a_database_restart_is_a_window_of_every_database_being_down() -> None:
    scenario = parse_scenario(
        "name: restart\nworkload: {orders: 5}\nfaults:\n"
        "  - {kind: database_restart, target: database, when: {window: [0.5, 2]}}\n"
    )
    (fault,) = scenario.faults
    assert (fault.kind, fault.target, fault.window) == ("database_restart", "database", (0.5, 2.0))
    assert fault.describe().startswith("the database (a private PostgreSQL server holding the services")
    assert fault.describe().endswith("killed at 0.5 s, back at 2 s")


def test_the_defaults_run_every_design_and_expect_what_the_workload_gives() -> None:
    scenario = parse_scenario("name: plain\nworkload: {orders: 5}\n")
    assert scenario.designs == DESIGNS
    assert scenario.faults == ()
    assert (scenario.expect.completed, scenario.expect.cancelled) == ("workload", "workload")


def test_the_catalog_holds_the_shipped_scenarios_and_every_one_reads() -> None:
    names = [s.name for s in catalog()]
    assert [p.stem for p in catalog_files()] == names
    for wanted in ("happy-path", "payment-declined", "out-of-stock", "transient-payment-errors"):
        assert wanted in names
    assert all(s.description for s in catalog())


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", ":1: /: the file is empty"),
        ("name: x\n  workload: [\n", ":2: /: not valid YAML"),
        ("- just\n- a list\n", ":1: /: expected a mapping"),
        ("workload: {orders: 3}\n", ":1: /: missing field 'name'"),
        ("name: Not_A_Name\nworkload: {orders: 3}\n", ":1: /name: 'Not_A_Name'"),
        ("name: x\nworkload: {orders: 3}\ncolour: red\n", ":3: /colour: unknown field 'colour'"),
        (
            "name: x\ndesigns: [sideways]\nworkload: {orders: 3}\n",
            ":2: /designs/0: unknown design 'sideways'",
        ),
        ("name: x\nworkload:\n  orders: ten\n", ":3: /workload/orders: expected a whole number"),
        ("name: x\nworkload: {orders: 0}\n", ":2: /workload/orders: expected a whole number from 1"),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: meteor\n",
            ":4: /faults/0/kind: unknown fault kind 'meteor'",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: error\n    target: shipping\n",
            ":5: /faults/0/target: unknown service 'shipping'",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: error\n    target: payment.ship\n",
            ":5: /faults/0/target: payment has no operation 'ship'",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: error\n",
            ":4: /faults/0: kind error needs a target",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: latency\n    target: payment\n",
            ":4: /faults/0: a latency fault needs seconds",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: error\n    target: payment\n    mode: sometimes\n",
            ":6: /faults/0/mode: mode is transient or permanent",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: decline\n    when: {probability: 1.5}\n",
            ":5: /faults/0/when/probability: expected a number from 0 to 1",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: error\n    target: payment\n"
            "    when: {window: [3, 1]}\n",
            ":6: /faults/0/when/window: a window is [start, end]",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - kind: compensation_failure\n    target: notification\n",
            ":5: /faults/0/target: a compensation failure targets payment.refund or inventory.release",
        ),
        (
            "name: x\ndesigns: [hybrid]\nworkload: {orders: 3}\nexpect:\n  designs:\n    orchestrated: {}\n",
            ":5: /expect: expectations for 'orchestrated'",
        ),
        (
            "name: x\nworkload: {orders: 3}\nexpect: {completed: most}\n",
            ":3: /expect/completed: expected a whole",
        ),
        ("name: x\nworkload: {orders: 3}\nrecover: [pray]\n", ":3: /recover/0: unknown recovery 'pray'"),
        (
            "name: x\nworkload: {orders: 3}\nretry_scale: 0\n",
            ":3: /retry_scale: expected a number from 0.001",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - {kind: malformed}\n",
            ":4: /faults/0: a malformed fault needs a count",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - {kind: out_of_order, when: {probability: 1}}\n",
            ":4: /faults/0: an out_of_order fault needs seconds",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n"
            "  - {kind: out_of_order, target: payment, when: {probability: 1}, seconds: 1}\n",
            ":4: /faults/0/target: messages are reordered on the bus",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - {kind: broker_restart, when: {probability: 1}}\n",
            ":4: /faults/0: a broker_restart fault needs when: {window: [down, up]}",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n"
            "  - {kind: database_restart, target: bus, when: {window: [1, 2]}}\n",
            ":4: /faults/0/target: a database_restart fault restarts the database, not 'bus'",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - {kind: database_restart, seconds: 2}\n",
            ":4: /faults/0/seconds: a database_restart fault takes when: {window: [down, up]}, not seconds",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - {kind: process_kill, target: payment}\n",
            ":4: /faults/0: a process_kill fault needs point",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n"
            "  - {kind: process_kill, target: payment, point: after_reserve_before_ack}\n",
            ":4: /faults/0/point: payment's process can be killed at after_charge_before_ack",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n"
            "  - {kind: process_kill, target: notification, point: x}\n",
            ":4: /faults/0/target: the process to kill runs payment or inventory",
        ),
        (
            "name: x\nworkload: {orders: 3}\nfaults:\n  - {kind: duplicate, mode: permanent}\n",
            ":4: /faults/0/mode: a duplicate fault takes target, when, not mode",
        ),
    ],
)
def test_a_bad_scenario_is_named_by_file_line_and_field(text: str, where: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(text, "s.yaml")
    assert str(raised.value).startswith("s.yaml") and where in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: /: cannot read it"):
        load_scenario(tmp_path / "nope.yaml")
