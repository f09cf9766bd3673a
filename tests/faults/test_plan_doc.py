"""The failure and recovery plan is written from the scenarios and the outcomes, saying how each design
recovered: by itself, by which command, or not at all."""

from __future__ import annotations

from stepdance.faults import Violation, parse_scenario
from stepdance.faults.plan_doc import plan
from stepdance.faults.runner import Outcome

SCENARIO = parse_scenario(
    "name: refunds\ndescription: refunds break\ndesigns: [orchestrated, choreographed]\n"
    "workload: {orders: 10}\nfaults:\n  - kind: compensation_failure\n    target: payment\n    mode: permanent\n"
)


def outcome(design: str, **changes: object) -> Outcome:
    base: dict[str, object] = dict(
        scenario="refunds",
        design=design,
        orders=10,
        completed=8,
        cancelled=2,
        intervention={},
        expected={},
        violations=[],
        mismatches=[],
        seconds=1.0,
        recover_seconds=0.5,
        strikes=3,
        retries=3,
        messages=10,
    )
    base.update(changes)
    return Outcome(**base)  # type: ignore[arg-type]


def test_each_design_says_how_it_recovered_and_what_was_measured() -> None:
    text = plan(
        [SCENARIO],
        [
            outcome("orchestrated"),
            outcome(
                "choreographed",
                cancelled=0,
                intervention={"o-1": "dead-lettered at payment: ServiceFailed", "o-2": "dead-lettered"},
                recover_seconds=None,
            ),
        ],
        when="today",
        machine="a laptop",
    )
    assert text.startswith("# Failure and recovery plan")
    assert "today (a laptop): 2 of 2 runs passed" in text
    assert "## refunds" in text and "refunds break" in text
    assert "- payment.refund: permanent error, 100% of orders" in text
    assert "| orchestrated | 8 completed, 2 cancelled | hold | by itself: the state machine's Retry" in text
    assert (
        "| choreographed | 8 completed, 0 cancelled, 2 for a person | hold | by a person: `stepdance dlq list`"
        in text
    )
    assert "e.g. dead-lettered at payment: ServiceFailed | - | 3 | 10 |" in text


def test_a_failed_run_and_its_broken_rules_show() -> None:
    broken = outcome("orchestrated", violations=[Violation("charged_twice", ("o-1",), "2 charges")])
    text = plan([SCENARIO], [broken], when="today", machine="m")
    assert "0 of 1 runs passed" in text
    assert "**FAILED**: 8 completed" in text and "broken: charged_twice" in text


def test_delivery_faults_absorbed_by_the_design_are_said_so() -> None:
    absorbed = outcome("choreographed", strikes=0, injected={"duplicated messages": 4, "calls made twice": 2})
    text = plan([SCENARIO], [absorbed], when="today", machine="m")
    assert "by itself: the inbox drops a message it has handled; the services are idempotent" in text
    assert "(4 duplicated messages, 2 calls made twice)" in text


def test_a_killed_process_recovers_by_restart_as_its_design_does() -> None:
    killed = outcome("orchestrated", strikes=0, injected={"process kills": 1})
    assert "by itself: the restarted worker takes the dead one's executions over" in plan(
        [SCENARIO], [killed], when="t", machine="m"
    )


def test_a_skipped_run_says_why_and_does_not_count_as_passed() -> None:
    skipped = outcome("choreographed", skipped="nats-server is not installed")
    assert not skipped.passed
    text = plan([SCENARIO], [outcome("orchestrated"), skipped], when="t", machine="m")
    assert "1 of 2 runs passed (1 skipped)" in text
    assert "| choreographed | skipped: nats-server is not installed |" in text


def test_a_restarted_server_recovers_as_its_design_does() -> None:
    broker = outcome("choreographed", strikes=0, injected={"broker restarts": 1})
    database = [
        outcome(d, strikes=0, injected={"database restarts": 1}) for d in ("orchestrated", "choreographed")
    ]
    text = plan([SCENARIO], [broker], when="today", machine="m")
    assert "by itself: the bus's publishers and consumers reconnect" in text
    text = plan([SCENARIO], database, when="today", machine="m")
    assert (
        "| orchestrated | 8 completed, 2 cancelled | hold | by itself: the engine holds its state changes"
        in text
    )
    assert (
        "| choreographed | 8 completed, 2 cancelled | hold | by itself: a reaction whose transaction" in text
    )
