"""The order and what can go wrong with it: pure data and rules, no I/O.

::

    OrderError                 .code (the ASL error name a Retry/Catch or an event matches) and .cause
     +-- PaymentDeclined       "PaymentDeclined": the card or the amount is refused (final)
     +-- OutOfStock            "OutOfStock": fewer units left than the order wants (final)
     +-- TransientFailure      "ServiceUnavailable": a gateway timeout, a mail server away (retry)
     +-- Undeliverable         "NotificationUndeliverable": the mail server refused the message (final)
     +-- UnknownOrder          "UnknownOrder": the orders view has not seen the order placed (yet)
    InvalidOrder (ValueError)  an order's fields are missing or wrong, named by field

Decline rules (:func:`decline_reason`), in this order:

1. a declined card token: ``tok_declined``, or any token starting ``tok_chargeDeclined`` (Stripe's test tokens
   ``tok_chargeDeclined``, ``tok_chargeDeclinedInsufficientFunds``, ...);
2. an amount over the limit, 5,000.00 (500,000 cents) unless the payment service is given another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_LIMIT_CENTS = 500_000
DECLINED_CARD = "tok_declined"
GOOD_CARD = "tok_visa"
_DECLINED_PREFIX = "tok_chargeDeclined"

# Order field -> its JSON (ASL input, event detail) key.
_KEYS = {
    "order_id": "orderId",
    "customer": "customer",
    "email": "email",
    "card": "card",
    "amount_cents": "amountCents",
    "sku": "sku",
    "quantity": "quantity",
}


class InvalidOrder(ValueError):
    """An order that cannot be processed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Order:
    """One customer order: who, paying with what, for how many units of which SKU."""

    order_id: str
    customer: str
    email: str
    card: str
    amount_cents: int
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            wanted = int if f.type in ("int", int) else str
            # bool is an int to Python but never a sensible amount or quantity
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise InvalidOrder(f"order field {_KEYS[f.name]!r} must be {wanted.__name__}: {value!r}")
        if not self.order_id:
            raise InvalidOrder("order field 'orderId' must not be empty")
        if self.amount_cents <= 0:
            raise InvalidOrder(f"order field 'amountCents' must be positive: {self.amount_cents}")
        if self.quantity <= 0:
            raise InvalidOrder(f"order field 'quantity' must be positive: {self.quantity}")

    def to_json(self) -> dict[str, Any]:
        """The order as ASL input or event detail: ``{"orderId": ..., "amountCents": ..., ...}``."""
        return {_KEYS[name]: value for name, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Any) -> Order:
        """The order in ``data`` (what :meth:`to_json` gives; other keys are ignored)."""
        if not isinstance(data, dict):
            raise InvalidOrder(f"an order must be a JSON object, not {type(data).__name__}")
        missing = [key for key in _KEYS.values() if key not in data]
        if missing:
            raise InvalidOrder(f"order is missing {', '.join(repr(k) for k in missing)}")
        return cls(**{name: data[key] for name, key in _KEYS.items()})


class OrderError(Exception):
    """A domain error: ``code`` is its ASL error name, ``cause`` says what happened."""

    code = "OrderError"
    retriable = False

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause

    def to_json(self) -> dict[str, str]:
        """``{"error": code, "cause": ...}``, the shape of an ASL task failure."""
        return {"error": self.code, "cause": self.cause}


class PaymentDeclined(OrderError):
    code = "PaymentDeclined"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutOfStock(OrderError):
    code = "OutOfStock"

    def __init__(self, sku: str, available: int, wanted: int) -> None:
        super().__init__(f"{sku}: {available} left, {wanted} wanted")
        self.sku = sku
        self.available = available
        self.wanted = wanted


class TransientFailure(OrderError):
    """A failure worth retrying: nothing was changed."""

    code = "ServiceUnavailable"
    retriable = True

    def __init__(self, service: str, cause: str) -> None:
        super().__init__(f"{service}: {cause}")
        self.service = service


class ServiceFailure(OrderError):
    """A failure retrying does not cure (a bug, a corrupt record, a dependency gone for good): nothing was
    changed, and the caller must compensate or surface the order for a person to look at."""

    code = "ServiceFailed"

    def __init__(self, service: str, cause: str) -> None:
        super().__init__(f"{service}: {cause}")
        self.service = service


class Undeliverable(OrderError):
    """The channel refused the message for good (a bad address, a 5xx from the mail server)."""

    code = "NotificationUndeliverable"


class UnknownOrder(OrderError):
    code = "UnknownOrder"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r} was placed")
        self.order_id = order_id


def decline_reason(card: str, amount_cents: int, limit: int = DEFAULT_LIMIT_CENTS) -> str | None:
    """Why the payment is declined (see the module's rules), or None when it goes through."""
    if card == DECLINED_CARD or card.startswith(_DECLINED_PREFIX):
        return f"card {card} declined"
    if amount_cents > limit:
        return f"amount {money(amount_cents)} over the limit {money(limit)}"
    return None


def money(cents: int) -> str:
    """``123456`` -> ``"1,234.56"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"
