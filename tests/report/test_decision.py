"""The decision matrix: priorities read and checked, every score carrying its reason, and the
recommendation following the weights (different priorities can change it), with the trade-off stated."""

from __future__ import annotations

import pytest

from stepdance.report.coupling import coupling
from stepdance.report.decision import (
    CRITERIA,
    DEFAULT_PRIORITIES,
    Evidence,
    PriorityError,
    matrix,
    parse_priorities,
    recommend,
)


def evidence(design: str, rate: float, recover: float) -> Evidence:
    return Evidence(
        design=design,
        orders_per_second=rate,
        p99_ms=900.0,
        coupling=coupling(design),
        scenario_runs=18,
        scenarios_passed=18,
        violations=0,
        mean_recover_seconds=recover,
        resent=0,
        timeout_recover_seconds=6.0,
        spans_per_order=14.0,
    )


EVIDENCE = [
    evidence("orchestrated", 300, 4.0),
    evidence("choreographed", 270, 3.5),
    evidence("hybrid", 260, 4.2),
]


def test_priorities_default_and_override() -> None:
    assert parse_priorities(None) == DEFAULT_PRIORITIES
    chosen = parse_priorities("audit=low, Team-Autonomy=HIGH")
    assert chosen["audit"] == "low" and chosen["team-autonomy"] == "high"
    assert chosen["debugging"] == DEFAULT_PRIORITIES["debugging"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed=high", "unknown criterion 'speed': one of step-order, team-autonomy, debugging"),
        ("audit=urgent", "audit: the weight is one of none, low, medium, high, not 'urgent'"),
        ("audit", "audit: the weight is one of none, low, medium, high, not ''"),
    ],
)
def test_an_unknown_criterion_or_weight_is_refused_with_the_valid_ones(text: str, message: str) -> None:
    with pytest.raises(PriorityError, match=message):
        parse_priorities(text)


def test_every_criterion_is_scored_for_every_design_with_a_reason() -> None:
    found = matrix(EVIDENCE, DEFAULT_PRIORITIES)
    for criterion in CRITERIA:
        for design in ("orchestrated", "choreographed", "hybrid"):
            score = found.scores[criterion][design]
            assert 1 <= score.value <= 5 and score.reason
    assert "300 orders/s" in found.scores["scalability"]["orchestrated"].reason
    assert found.scores["scalability"]["orchestrated"].value == 5
    assert "1 definition" in found.scores["step-order"]["orchestrated"].reason
    assert "4 definitions" in found.scores["step-order"]["choreographed"].reason


def test_different_priorities_change_the_recommendation_and_the_trade_off_is_stated() -> None:
    default = recommend(matrix(EVIDENCE, DEFAULT_PRIORITIES))
    assert default.design == "orchestrated"
    assert default.gives_up, "the trade-off against the runner-up is stated"
    autonomy = parse_priorities(
        "team-autonomy=high,loose-coupling=high,operability=high,audit=none,debugging=none,"
        "step-order=none,testability=none,long-running=low"
    )
    changed = recommend(matrix(EVIDENCE, autonomy))
    assert changed.design == "choreographed"
    assert any(line.startswith("independent teams (high)") for line in changed.wins)
    assert changed.totals[changed.design] > changed.totals[changed.runner_up]
    assert "choreographed (weighted score" in changed.summary()
