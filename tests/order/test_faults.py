from __future__ import annotations

import pytest

from stepdance.order import Faults, Rule, ServiceFailure, TransientFailure


def test_nothing_fails_without_rates() -> None:
    faults = Faults()
    for i in range(100):
        faults.check("payment", f"o-{i}")


def test_the_choice_is_decided_by_seed_service_and_order() -> None:
    ids = [f"o-{i}" for i in range(2000)]
    faults = Faults(transient={"payment": 0.1}, seed=3)
    chosen = [i for i in ids if faults.chosen("payment", i)]
    assert 150 < len(chosen) < 250
    assert chosen == [i for i in ids if Faults(transient={"payment": 0.1}, seed=3).chosen("payment", i)]
    assert chosen != [i for i in ids if Faults(transient={"payment": 0.1}, seed=4).chosen("payment", i)]
    assert not any(faults.chosen("inventory", i) for i in ids)
    assert all(Faults(transient={"payment": 1.0}).chosen("payment", i) for i in ids)


def test_a_chosen_order_fails_its_first_attempts_then_succeeds() -> None:
    faults = Faults(transient={"notification": 1.0}, failures=2)
    for attempt in (1, 2):
        with pytest.raises(TransientFailure, match=f"attempt {attempt} of order o-1"):
            faults.check("notification", "o-1")
    faults.check("notification", "o-1")
    assert faults.attempts("notification", "o-1") == 3
    assert faults.attempts("notification", "o-2") == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transient": {"shipping": 0.1}}, "unknown service 'shipping'"),
        ({"transient": {"payment": 1.5}}, "between 0 and 1"),
        ({"failures": 0}, "at least 1"),
    ],
)
def test_bad_faults_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**kwargs)  # type: ignore[arg-type]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_permanent_rule_fails_every_attempt_of_a_chosen_order_with_a_service_failure() -> None:
    faults = Faults(rules=[Rule("payment", "refund", "permanent")])
    for _ in range(3):
        with pytest.raises(ServiceFailure, match="injected refund failure") as raised:
            faults.check("payment", "o-1", "refund")
        assert not raised.value.retriable
    faults.check("payment", "o-1")  # the charge is not the refund
    assert [s.attempt for s in faults.strikes] == [1, 2, 3]


def test_a_window_strikes_every_call_inside_it_and_none_outside() -> None:
    clock = _Clock()
    faults = Faults(rules=[Rule("notification", "send", "transient", window=(1.0, 3.0))], clock=clock)
    faults.arm()
    faults.check("notification", "o-1")  # before the window
    clock.now += 1.5
    for order in ("o-1", "o-1", "o-2"):
        with pytest.raises(TransientFailure):
            faults.check("notification", order)
    clock.now += 2.0
    faults.check("notification", "o-1")  # after it: the service is back
    assert [(s.order_id, s.attempt, s.at) for s in faults.strikes] == [
        ("o-1", 1, 1.5),
        ("o-1", 2, 1.5),
        ("o-2", 1, 1.5),
    ]


def test_call_numbers_strike_the_nth_calls_whoever_makes_them() -> None:
    slept: list[float] = []
    faults = Faults(
        rules=[Rule("inventory", "reserve", "latency", seconds=0.25, calls=frozenset({2, 4}))],
        sleep=slept.append,
    )
    for i in range(5):
        faults.check("inventory", f"o-{i}")
    assert slept == [0.25, 0.25]
    assert [s.order_id for s in faults.strikes] == ["o-1", "o-3"]


def test_rules_of_one_plan_pick_orders_independently() -> None:
    ids = [f"o-{i}" for i in range(1000)]
    faults = Faults(
        rules=[
            Rule("payment", "charge", "transient", rate=0.3),
            Rule("payment", "refund", "transient", rate=0.3),
        ],
        seed=1,
    )
    charge = {i for i in ids if faults.chosen("payment", i)}
    refund = {i for i in ids if faults.chosen("payment", i, "refund")}
    assert 240 < len(charge) < 360 and 240 < len(refund) < 360
    assert charge != refund


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"service": "payment", "operation": "ship", "effect": "transient"},
            "payment has no operation 'ship'",
        ),
        ({"service": "payment", "operation": "charge", "effect": "explode"}, "unknown effect 'explode'"),
        ({"service": "payment", "operation": "charge", "effect": "latency", "seconds": -1}, "negative"),
        (
            {"service": "payment", "operation": "charge", "effect": "transient", "calls": frozenset({0})},
            "at 1",
        ),
        (
            {"service": "payment", "operation": "charge", "effect": "transient", "window": (3.0, 1.0)},
            "window",
        ),
    ],
)
def test_bad_rules_are_refused(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rule(**rule)  # type: ignore[arg-type]


def test_an_order_struck_for_good_fails_every_later_call_whatever_its_number() -> None:
    faults = Faults(rules=[Rule("payment", "charge", "permanent", calls=frozenset({2}))])
    faults.check("payment", "o-1")
    for _ in range(3):  # call 2 strikes o-2; calls 3 and 4 are o-2's retries
        with pytest.raises(ServiceFailure):
            faults.check("payment", "o-2")
    faults.check("payment", "o-3")
    assert [s.order_id for s in faults.strikes] == ["o-2", "o-2", "o-2"]
