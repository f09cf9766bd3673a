from __future__ import annotations

import pytest
from sqlalchemy import exc, insert

from stepdance.order import Faults, Payment, PaymentDeclined, TransientFailure
from stepdance.order.payment import charge_id, ledger_table
from tests.order.conftest import Backend
from tests.order.helpers import on_threads, order


class Boom(Exception):
    pass


@pytest.fixture
def payment(backend: Backend) -> Payment:
    return Payment(backend.db("payment"), limit_cents=100_000).create()


def test_a_charge_enters_the_ledger(payment: Payment) -> None:
    charged = payment.charge(None, order("o-1", amount_cents=2_500))
    assert charged["status"] == "charged"
    assert (charged["orderId"], charged["chargeId"], charged["amountCents"]) == (
        "o-1",
        charge_id("o-1"),
        2_500,
    )
    assert [(e["kind"], e["amountCents"]) for e in payment.ledger("o-1")] == [("charge", 2_500)]
    assert payment.balance("o-1") == 2_500
    assert payment.get("o-1") == charged


def test_charging_twice_charges_once(payment: Payment) -> None:
    first = payment.charge(None, order("o-1"))
    assert payment.charge(None, order("o-1")) == first
    assert payment.charge(None, order("o-1", amount_cents=1)) == first  # the first charge stands
    assert len(payment.ledger("o-1")) == 1


def test_concurrent_charges_of_one_order_charge_once(payment: Payment) -> None:
    results: list[dict[str, object]] = []
    on_threads(8, lambda _: results.append(payment.charge(None, order("o-1"))))
    assert len({r["chargeId"] for r in results}) == 1
    assert len(payment.ledger("o-1")) == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"card": "tok_declined"}, "card tok_declined declined"),
        ({"amount_cents": 100_001}, "amount 1,000.01 over the limit 1,000.00"),
    ],
)
def test_a_decline_is_recorded_and_stays_declined(
    payment: Payment, changes: dict[str, object], reason: str
) -> None:
    declined = order("o-1", **changes)
    for _ in range(2):
        with pytest.raises(PaymentDeclined, match=reason) as raised:
            payment.charge(None, declined)
        assert raised.value.code == "PaymentDeclined"
    record = payment.get("o-1")
    assert record is not None
    assert (record["status"], record["reason"]) == ("declined", reason)
    assert payment.ledger("o-1") == []
    assert payment.balance("o-1") == 0


def test_a_decline_caught_in_the_callers_transaction_commits_with_it(payment: Payment) -> None:
    with payment.engine.begin() as tx, pytest.raises(PaymentDeclined):
        payment.charge(tx, order("o-1", card="tok_chargeDeclined"))
    record = payment.get("o-1")
    assert record is not None
    assert record["status"] == "declined"


def test_a_callers_rollback_takes_the_charge_back(payment: Payment) -> None:
    with pytest.raises(Boom), payment.engine.begin() as tx:
        payment.charge(tx, order("o-1"))
        raise Boom
    assert payment.get("o-1") is None
    assert payment.ledger("o-1") == []


def test_a_refund_gives_the_money_back_once(payment: Payment) -> None:
    payment.charge(None, order("o-1", amount_cents=700))
    refunded = payment.refund(None, "o-1")
    assert refunded is not None
    assert refunded["status"] == "refunded"
    assert payment.refund(None, "o-1") == refunded
    assert [(e["kind"], e["amountCents"]) for e in payment.ledger("o-1")] == [
        ("charge", 700),
        ("refund", -700),
    ]
    assert payment.balance("o-1") == 0
    assert payment.charge(None, order("o-1"))["status"] == "refunded"  # never charged again
    assert len(payment.ledger("o-1")) == 2


def test_concurrent_refunds_refund_once(payment: Payment) -> None:
    payment.charge(None, order("o-1", amount_cents=700))
    on_threads(8, lambda _: payment.refund(None, "o-1"))
    assert payment.balance("o-1") == 0
    assert len(payment.ledger("o-1")) == 2


def test_nothing_to_refund_without_a_charge(payment: Payment) -> None:
    assert payment.refund(None, "never-charged") is None
    with pytest.raises(PaymentDeclined):
        payment.charge(None, order("o-d", card="tok_declined"))
    assert payment.refund(None, "o-d") is None
    assert payment.balances() == {}


def test_balances_of_every_order(payment: Payment) -> None:
    payment.charge(None, order("o-1", amount_cents=100))
    payment.charge(None, order("o-2", amount_cents=200))
    payment.refund(None, "o-1")
    assert payment.balances() == {"o-1": 0, "o-2": 200}
    assert set(payment.charges()) == {"o-1", "o-2"}


def test_an_injected_transient_failure_changes_nothing(backend: Backend) -> None:
    payment = Payment(backend.db("payment"), faults=Faults(transient={"payment": 1.0})).create()
    with pytest.raises(TransientFailure) as raised:
        payment.charge(None, order("o-1"))
    assert raised.value.code == "ServiceUnavailable"
    assert payment.get("o-1") is None
    assert payment.charge(None, order("o-1"))["status"] == "charged"  # the retry


def test_the_ledger_refuses_a_second_charge_entry(payment: Payment) -> None:
    payment.charge(None, order("o-1"))
    with pytest.raises(exc.IntegrityError), payment.engine.begin() as tx:
        row = {"order_id": "o-1", "kind": "charge", "amount_cents": 1, "at": 0.0}
        tx.execute(insert(ledger_table).values(row))
