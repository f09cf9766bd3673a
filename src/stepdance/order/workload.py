"""A reproducible mix of orders, the stock to meet it, and how many of them must end each way.

::

    batch = orders(1000, decline_rate=0.05, out_of_stock_rate=0.1, seed=7)
    inventory.set_stock(stock_for(batch))
    expected(batch, stock_for(batch))     # {"completed": 847, "cancelled": 153, "declined": 59, "out_of_stock": 94}

Declines come from the card token (``tok_declined``); stock-outs from a scarce SKU that about twice
``out_of_stock_rate`` of the orders want and :func:`stock_for` stocks for half of those who can pay, so
about ``out_of_stock_rate`` of them find none left. Which orders those are depends on who comes first; how
many does not (every order wants one unit), which is what :func:`expected` counts.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from stepdance.order.model import DECLINED_CARD, DEFAULT_LIMIT_CENTS, GOOD_CARD, Order, decline_reason

PLENTY_SKU = "sku-plenty"
SCARCE_SKU = "sku-limited"


def orders(
    count: int,
    *,
    decline_rate: float = 0.05,
    out_of_stock_rate: float = 0.1,
    seed: int = 7,
    prefix: str = "order",
) -> list[Order]:
    """``count`` orders named ``<prefix>-00000``...; the same list for the same arguments."""
    if count < 0:
        raise ValueError(f"the order count cannot be negative: {count}")
    for name, rate in (("decline_rate", decline_rate), ("out_of_stock_rate", out_of_stock_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {rate}")
    rng = random.Random(seed)
    scarce = min(1.0, 2 * out_of_stock_rate)
    batch = []
    for i in range(count):
        customer = f"customer-{rng.randrange(10_000):04d}"
        batch.append(
            Order(
                order_id=f"{prefix}-{i:05d}",
                customer=customer,
                email=f"{customer}@example.com",
                card=DECLINED_CARD if rng.random() < decline_rate else GOOD_CARD,
                amount_cents=rng.randint(500, 40_000),
                sku=SCARCE_SKU if rng.random() < scarce else PLENTY_SKU,
                quantity=1,
            )
        )
    return batch


def stock_for(batch: Sequence[Order], *, limit_cents: int = DEFAULT_LIMIT_CENTS) -> dict[str, int]:
    """Units for every paying order of the plenty SKU, and for half of those of the scarce one."""
    demand = _paying_demand(batch, limit_cents)
    return {PLENTY_SKU: demand[PLENTY_SKU], SCARCE_SKU: demand[SCARCE_SKU] // 2}


def expected(
    batch: Sequence[Order], stock: dict[str, int], *, limit_cents: int = DEFAULT_LIMIT_CENTS
) -> dict[str, int]:
    """How many orders end completed and cancelled (declined + out of stock), whatever the order in which
    they are processed, given one unit per order."""
    several = next((o for o in batch if o.quantity != 1), None)
    if several is not None:
        raise ValueError(f"expected() counts one unit per order; {several.order_id} wants {several.quantity}")
    declined = sum(decline_reason(o.card, o.amount_cents, limit_cents) is not None for o in batch)
    demand = _paying_demand(batch, limit_cents)
    short = sum(max(0, units - stock.get(sku, 0)) for sku, units in demand.items())
    return {
        "completed": len(batch) - declined - short,
        "cancelled": declined + short,
        "declined": declined,
        "out_of_stock": short,
    }


def _paying_demand(batch: Sequence[Order], limit_cents: int) -> Counter[str]:
    demand: Counter[str] = Counter({PLENTY_SKU: 0, SCARCE_SKU: 0})
    for o in batch:
        if decline_reason(o.card, o.amount_cents, limit_cents) is None:
            demand[o.sku] += o.quantity
    return demand
