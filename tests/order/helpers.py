"""Orders for tests, and running calls on many threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from stepdance.order import Order

BASE = Order(
    order_id="o-1",
    customer="ann",
    email="ann@example.com",
    card="tok_visa",
    amount_cents=12_345,
    sku="sku-a",
    quantity=1,
)


def order(order_id: str = "o-1", **changes: Any) -> Order:
    return replace(BASE, order_id=order_id, **changes)


def on_threads(count: int, work: Callable[[int], object]) -> None:
    """Run ``work(i)`` for i in range(count) on threads started together; re-raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
