"""The order saga as Cloud Workflows runs it (``examples/order_saga.yaml``), against fake services on the
virtual clock: the happy path, a declined payment, a stock-out that refunds the charge, transient errors
retried; and what the simulator does with endpoints and handlers that are missing or broken."""

from __future__ import annotations

import base64
import json
from typing import Any

from stepdance.gcw.simulate import START, Outcome, TaskError, simulate
from tests.gcw.test_machine_support import example, run, started

ENV = {"PAYMENTS_URL": "http://payments", "INVENTORY_URL": "http://inventory"}
ORDER = {"id": "o-1", "amount": 42, "items": [{"sku": "apple", "qty": 2}]}
PUBLISH = "googleapis.pubsub.v1.projects.topics.publish"


class Shop:
    """Fake payment and inventory services, answering each operation with the codes given, then 200."""

    def __init__(self, charge: list[int] | None = None, reserve: list[int] | None = None) -> None:
        self.codes = {"charge": list(charge or []), "reserve": list(reserve or []), "refund": []}
        self.published: list[dict[str, Any]] = []
        self.topics: list[str] = []

    def http(self, request: dict[str, Any]) -> dict[str, Any]:
        operation = request["url"].rsplit("/", 1)[1]
        code = self.codes[operation].pop(0) if self.codes[operation] else 200
        if code >= 400:
            return {"code": code, "body": {"error": f"{operation} refused"}}
        if operation == "refund":
            return {"code": code, "body": {"refunded": request["body"]["charge_id"]}}
        bodies = {"charge": {"charge_id": "ch-1"}, "reserve": {"reservation_id": "r-1"}}
        return {"code": code, "body": bodies[operation]}

    def publish(self, args: dict[str, Any]) -> dict[str, Any]:
        self.topics.append(args["topic"])
        self.published.append(json.loads(base64.b64decode(args["body"]["messages"][0]["data"])))
        return {"messageIds": ["m-1"]}

    def run(self) -> Outcome:
        return simulate(
            example("order_saga"),
            json.dumps(ORDER),
            http=self.http,
            env=ENV,
            handlers={PUBLISH: self.publish},
        )


def _calls(outcome: Outcome) -> list[str]:
    return [f"{r['method']} {r['url']}" for r in outcome.requests]


def _taken(outcome: Outcome) -> list[str]:
    return [e["step"] for e in started(outcome) if e["routine"] == "main"]


def test_the_happy_path_charges_reserves_and_publishes_completed() -> None:
    shop = Shop()
    outcome = shop.run()
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == {"order_id": "o-1", "status": "completed"}
    assert _calls(outcome) == ["POST http://payments/charge", "POST http://inventory/reserve"]
    charge = outcome.requests[0]
    assert charge["headers"] == {"Idempotency-Key": "charge-o-1"}
    assert charge["body"] == {"order_id": "o-1", "amount": 42}
    assert shop.published == [outcome.result]
    assert shop.topics == ["projects/stepdance/topics/orders"]
    assert _taken(outcome) == [
        "init",
        "charge",
        "charge",
        "reserve",
        "reserve",
        "completed",
        "publish",
        "done",
    ]
    assert "CONNECTOR_CALL" in {e["stepType"] for e in started(outcome)}


def test_a_declined_payment_cancels_without_reserving() -> None:
    shop = Shop(charge=[402])
    outcome = shop.run()
    assert outcome.result == {
        "order_id": "o-1",
        "status": "cancelled",
        "reason": "payment: HTTP server responded with error code 402",
    }
    assert _calls(outcome) == ["POST http://payments/charge"]  # 402 is no error to retry
    assert shop.published == [outcome.result]
    assert "declined" in _taken(outcome) and "reserve" not in _taken(outcome)


def test_a_stock_out_refunds_the_charge() -> None:
    shop = Shop(reserve=[409])
    outcome = shop.run()
    assert outcome.result["status"] == "cancelled"
    assert outcome.result["reason"] == "inventory: HTTP server responded with error code 409"
    assert _calls(outcome) == [
        "POST http://payments/charge",
        "POST http://inventory/reserve",
        "POST http://payments/refund",
    ]
    refund = outcome.requests[2]["body"]
    assert refund == {"order_id": "o-1", "charge_id": "ch-1", "reason": "compensation"}
    refund_steps = [e["step"] for e in started(outcome) if e["routine"] == "refund"]
    assert refund_steps == ["refund_call", "refund_call", "refund_done"]  # the try, its call, the return
    assert shop.published == [outcome.result]


def test_transient_errors_are_retried_with_each_policy_s_backoff() -> None:
    shop = Shop(charge=[503], reserve=[502, 504, 409])
    outcome = shop.run()
    scheduled = [
        (r["url"], e["timestamp"] - START) for r, e in zip(outcome.requests, _scheduled(outcome), strict=True)
    ]
    assert scheduled == [
        ("http://payments/charge", 0),  # 503: the non-idempotent policy retries it after 1 s
        ("http://payments/charge", 1),
        ("http://inventory/reserve", 1),  # 502, 504: the saga's own policy, 1 s then 2 s
        ("http://inventory/reserve", 2),
        ("http://inventory/reserve", 4),  # 409: not retried, compensated
        ("http://payments/refund", 4),
    ]
    assert outcome.result["status"] == "cancelled"


def _scheduled(outcome: Outcome) -> list[dict[str, Any]]:
    return [
        e
        for e in outcome.events
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "http"
    ]


def test_missing_or_broken_fakes_fail_their_tasks() -> None:
    text = """
- get:
    try:
      call: http.get
      args: {url: "https://example.com"}
    except:
      as: e
      steps:
        - show:
            return: ${e.tags}
"""
    assert run(text).result == ["ConnectionFailedError"]

    def broken(request: dict[str, Any]) -> Any:
        raise RuntimeError("bug in the fake")

    assert run(text, http=broken).result == ["RuntimeError"]

    def refused(request: dict[str, Any]) -> Any:
        raise TaskError("AuthError", "no token", code=401)

    assert run(text, http=refused).result == ["AuthError"]
    connector = run("- pub:\n    call: googleapis.pubsub.v1.projects.topics.publish\n    args: {topic: t}\n")
    assert (connector.error, connector.failure["message"]) == (
        "SystemError",
        f"no handler registered for {PUBLISH}",
    )
