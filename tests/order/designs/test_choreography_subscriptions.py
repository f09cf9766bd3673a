"""The choreography's table: every reaction resolves, every rule matches exactly what its service reacts to,
and every fact has a publisher and someone who cares."""

from __future__ import annotations

import json

import pytest

from stepdance.bus.patterns import compile_pattern
from stepdance.order.designs import choreography_subscriptions as s
from stepdance.order.designs.choreography_reactions import ACTIONS

PUBLISHED = [(s.source(service), kind) for service, kinds in s.PUBLISHES.items() for kind in kinds]


def event(source: str, detail_type: str) -> dict[str, object]:
    return {
        "version": "0",
        "id": "e-1",
        "source": source,
        "detail-type": detail_type,
        "account": "123456789012",
        "time": "2024-05-06T07:08:09Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"order": {"orderId": "o-1"}},
    }


@pytest.mark.parametrize("service", s.PARTICIPANTS)
def test_a_rule_matches_what_its_service_reacts_to_and_nothing_else(service: str) -> None:
    pattern = compile_pattern(s.pattern_text(service))
    wanted = {(r.source, r.detail_type) for r in s.reactions(service)}
    assert wanted
    for source, kind in PUBLISHED:
        assert pattern.matches(event(source, kind)) == ((source, kind) in wanted), (source, kind)


def test_every_reaction_has_an_action_and_a_publisher() -> None:
    for reaction in s.REACTIONS:
        assert reaction.action in ACTIONS
        assert (reaction.source, reaction.detail_type) in PUBLISHED


def test_every_fact_is_reacted_to() -> None:
    reacted = {(r.source, r.detail_type) for r in s.REACTIONS}
    assert set(PUBLISHED) == reacted


def test_an_order_ends_in_facts_the_view_and_notification_both_follow() -> None:
    ends = {r.detail_type for r in s.reactions("orders")}
    assert ends == {r.detail_type for r in s.reactions("notification")}
    assert ends == {s.STOCK_RESERVED, s.PAYMENT_DECLINED, s.PAYMENT_REFUNDED}


def test_a_service_publishes_only_its_own_facts_under_its_own_source() -> None:
    made = s.entry("payment", s.PAYMENT_CHARGED, {"order": {"orderId": "o-1"}}, "b")
    assert made["Source"] == "stepdance.payment"
    assert json.loads(made["Detail"]) == {"order": {"orderId": "o-1"}}
    assert made["EventBusName"] == "b"
    with pytest.raises(ValueError, match="does not publish StockReserved"):
        s.entry("payment", s.STOCK_RESERVED, {}, "b")


def test_a_service_that_reacts_to_nothing_has_no_rule() -> None:
    with pytest.raises(ValueError, match="reacts to nothing"):
        s.pattern("shipping")
