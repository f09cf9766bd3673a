"""The saga's task handlers over the real services: results, domain errors as task failures named for
Retry and Catch, and what each failure leaves in the service's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stepdance.engine import Engine, TaskFailure
from stepdance.order import Faults
from stepdance.order.designs import tasks as t
from stepdance.order.designs.base import Services, open_services
from stepdance.order.model import Order
from stepdance.settings import Settings
from stepdance.store import open_store
from tests.order.conftest import Backend
from tests.order.designs.saga_checks import Refusing, channel
from tests.order.helpers import order


@pytest.fixture
def services(backend: Backend) -> Iterator[Services]:
    opened = open_services(
        backend.url, backend.data_dir, faults=Faults({"inventory": 1.0}), channel=channel(backend.data_dir)
    )
    opened.inventory.set_stock({"sku-a": 1})
    yield opened
    opened.dispose()


@pytest.fixture
def handlers(services: Services) -> dict[str, t.Handler]:
    return t.SagaTasks(services).resources()


async def failure(handlers: dict[str, t.Handler], resource: str, payload: object) -> TaskFailure:
    with pytest.raises(TaskFailure) as raised:
        await handlers[resource](payload)
    return raised.value


async def test_a_charge_answers_with_the_charge(handlers: dict[str, t.Handler], services: Services) -> None:
    charged = await handlers[t.CHARGE](order("o-1").to_json())
    assert (charged["orderId"], charged["status"]) == ("o-1", "charged")
    assert services.payment.balance("o-1") == order().amount_cents


async def test_a_decline_fails_the_task_and_stays_recorded(
    handlers: dict[str, t.Handler], services: Services
) -> None:
    declined = await failure(handlers, t.CHARGE, order("o-1", card="tok_declined").to_json())
    assert (declined.error, declined.cause) == ("PaymentDeclined", "card tok_declined declined")
    assert services.payment.get("o-1")["status"] == "declined"  # type: ignore[index]


async def test_a_stock_out_fails_the_task_and_the_rejection_stays_recorded(
    handlers: dict[str, t.Handler], services: Services
) -> None:
    services.inventory.faults = Faults()
    await handlers[t.RESERVE](order("first").to_json())
    short = await failure(handlers, t.RESERVE, order("second").to_json())
    assert short.error == "OutOfStock"
    assert services.inventory.get("second")["status"] == "rejected"  # type: ignore[index]


async def test_a_transient_failure_is_service_unavailable(
    handlers: dict[str, t.Handler], services: Services
) -> None:
    unavailable = await failure(handlers, t.RESERVE, order("o-1").to_json())
    assert unavailable.error == "ServiceUnavailable"
    assert services.inventory.get("o-1") is None
    assert (await handlers[t.RESERVE](order("o-1").to_json()))[
        "status"
    ] == "reserved"  # its retry goes through


async def test_an_undeliverable_message_is_not_recorded(services: Services) -> None:
    services.notification.channel = Refusing()
    handlers = t.SagaTasks(services).resources()
    refused = await failure(
        handlers, t.NOTIFY, {"orderId": "o-1", "kind": "confirmed", "to": "ann@example.com"}
    )
    assert refused.error == "NotificationUndeliverable"
    assert services.notification.sent() == []


async def test_bad_input_fails_the_task_as_invalid_input(handlers: dict[str, t.Handler]) -> None:
    assert (await failure(handlers, t.CHARGE, {"orderId": "o-1"})).error == "InvalidInput"
    assert (await failure(handlers, t.REFUND, {"orderId": 7})).error == "InvalidInput"
    assert (
        await failure(handlers, t.NOTIFY, {"orderId": "o-1", "kind": "party", "to": "x"})
    ).error == "InvalidInput"


async def test_the_orders_view_is_completed_and_cancelled_with_the_caught_error(
    handlers: dict[str, t.Handler], services: Services
) -> None:
    services.orders.place(None, order("ok"), "orchestrated")
    services.orders.place(None, order("no"), "orchestrated")
    assert (await handlers[t.COMPLETE]({"orderId": "ok"}))["status"] == "completed"
    caught = {"Error": "OutOfStock", "Cause": "sku-a: 0 left, 1 wanted"}
    cancelled = await handlers[t.CANCEL]({"orderId": "no", "error": caught})
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "OutOfStock: sku-a: 0 left, 1 wanted")
    assert (await failure(handlers, t.COMPLETE, {"orderId": "never"})).error == "UnknownOrder"


async def test_a_refund_of_nothing_charged_is_null(handlers: dict[str, t.Handler]) -> None:
    assert await handlers[t.REFUND]({"orderId": "o-1"}) is None
    assert await handlers[t.RELEASE]({"orderId": "o-1"}) is None


async def test_accept_fills_in_an_order_and_places_it_once(
    handlers: dict[str, t.Handler], services: Services
) -> None:
    accepted = await handlers[t.ACCEPT]({"order": {"orderId": "o-9", "note": "kept"}, "design": "hybrid"})
    assert accepted["email"] == "o-9@example.com" and accepted["note"] == "kept"
    assert Order.from_json(accepted).amount_cents > 0
    again = await handlers[t.ACCEPT]({"order": {"orderId": "o-9", "amountCents": 5}, "design": "hybrid"})
    assert again["placedAt"] == accepted["placedAt"]  # placed once: the view keeps the first
    record = services.orders.get("o-9")
    assert record is not None and record["design"] == "hybrid" and record["status"] == "pending"


async def test_accept_without_an_order_id_fails_the_task(handlers: dict[str, t.Handler]) -> None:
    with pytest.raises(TaskFailure) as failed:
        await handlers[t.ACCEPT]({"order": {"amountCents": 5}, "design": "orchestrated"})
    assert failed.value.error == "InvalidInput" and "orderId" in str(failed.value.cause)


def test_cancel_reason() -> None:
    assert t.cancel_reason({"reason": "changed my mind"}) == "changed my mind"
    assert t.cancel_reason({"error": {"Error": "States.Timeout"}}) == "States.Timeout"


def test_one_call_registers_every_resource_on_an_engine(services: Services) -> None:
    store = open_store("memory://")
    engine = Engine(store, Settings())
    tasks = t.register_tasks(engine, services)
    assert set(tasks.resources()) == {
        t.ACCEPT,
        t.CHARGE,
        t.REFUND,
        t.RESERVE,
        t.RELEASE,
        t.NOTIFY,
        t.COMPLETE,
        t.CANCEL,
    }
    assert all(resource in engine.handlers for resource in tasks.resources())
    store.close()
