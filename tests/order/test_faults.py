from __future__ import annotations

import pytest

from stepdance.order import Faults, TransientFailure


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
