"""What a run left behind, read from where it lives: the services' databases and the notification channel
(:func:`snapshot`), and the orders a person must look at (:func:`interventions`): events in a dead-letter
queue, executions that failed, timed out or were stopped, executions that completed without being able to
notify. Everything here only reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any

from stepdance.engine.arns import execution_of
from stepdance.faults.invariants import Snapshot
from stepdance.order.channels import FileChannel
from stepdance.order.designs.base import Design, Services
from stepdance.order.model import Order

STUCK = ("FAILED", "TIMED_OUT", "ABORTED")


def snapshot(
    services: Services,
    batch: Sequence[Order],
    stocked: dict[str, int],
    channel: FileChannel | None,
    interventions: dict[str, str],
) -> Snapshot:
    """The services' data about ``batch`` (and the channel's deliveries) as a :class:`Snapshot`; it reads
    databases, so async callers run it in a thread."""
    wanted = {o.order_id for o in batch}
    view = {oid: services.orders.get(oid) for oid in wanted}
    records = [r for r in services.notification.sent() if r["orderId"] in wanted]
    sent_at: dict[str, float] = {}
    for r in records:
        sent_at[r["orderId"]] = max(sent_at.get(r["orderId"], 0.0), float(r["sentAt"]))
    return Snapshot(
        orders=list(batch),
        view={oid: v for oid, v in view.items() if v is not None},
        charges={k: v for k, v in services.payment.charges().items() if k in wanted},
        ledger={k: v for k, v in services.payment.ledgers().items() if k in wanted},
        reservations={k: v for k, v in services.inventory.reservations().items() if k in wanted},
        notified=[(r["orderId"], r["kind"]) for r in records],
        delivered=[
            (m["orderId"], m["kind"], m["messageId"])
            for m in (channel.messages() if channel else [])
            if m["orderId"] in wanted
        ],
        stocked=dict(stocked),
        left=services.inventory.stock_levels(),
        interventions=dict(interventions),
        sent_at=sent_at,
    )


async def interventions(design: Design, order_ids: Iterable[str], *, decided: bool = False) -> dict[str, str]:
    """Of ``order_ids``, those a person must act on, with why: :func:`dead_lettered`, then
    :func:`stuck_executions` for the rest."""
    wanted = set(order_ids)
    found = await dead_lettered(design, wanted)
    found.update(await stuck_executions(design, wanted - found.keys(), decided=decided))
    return found


async def dead_lettered(design: Design, order_ids: Iterable[str]) -> dict[str, str]:
    """Of ``order_ids``, those with an event in the design's dead-letter queue, and where and why. Any
    order with one is a person's business, whatever its status: a refund dead-lettered after the customer
    was told "cancelled" still keeps money."""
    wanted = set(order_ids)
    bus = getattr(design, "bus", None)
    found: dict[str, str] = {}
    if bus is None or not wanted:
        return found
    for letter in await asyncio.to_thread(dead_letters, bus.catalog):
        oid = order_of(letter.body)
        if oid in wanted and oid not in found:
            found[oid] = (
                f"dead-lettered at {letter.rule}/{letter.target_id} after {letter.attempts} attempt(s): "
                f"{letter.error_code}: {letter.error_message}"
            )
    return found


async def stuck_executions(
    design: Design, order_ids: Iterable[str], *, decided: bool = False
) -> dict[str, str]:
    """Of ``order_ids``, those whose execution needs a person, and why. Undecided orders (``decided``
    false): an execution that stopped short of its end (the caller reads the view again afterwards: an
    execution that ended by cancelling, as the hybrid's does, decided its order first). Decided orders not
    told their outcome: an execution that failed at the notification or gave it up."""
    client, arn = getattr(design, "client", None), getattr(design, "machine_arn", "")
    # a decided order's notification runs on the bus when the design has one (the hybrid's does): then its
    # execution's end says nothing about it (the hybrid's ends failed for every cancelled order)
    if client is None or not arn or (decided and getattr(design, "bus", None) is not None):
        return {}
    found: dict[str, str] = {}
    for oid in sorted(set(order_ids)):
        reason = await _execution_problem(client, arn, oid, decided)
        if reason is not None:
            found[oid] = reason
    return found


def dead_letters(catalog: Any) -> list[Any]:
    """Every dead letter of ``catalog``, page by page."""
    letters: list[Any] = []
    after: str | None = None
    while True:
        page = catalog.dead_letters(after=after, limit=500)
        letters += page
        if len(page) < 500:
            return letters
        after = page[-1].id


def order_of(body: str) -> str | None:
    """The order an event is about: ``detail.order.orderId`` or ``detail.orderId``."""
    try:
        detail = json.loads(body).get("detail") or {}
        order = detail.get("order")
        found = order.get("orderId") if isinstance(order, dict) else detail.get("orderId")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


async def _execution_problem(client: Any, machine_arn: str, order_id: str, decided: bool) -> str | None:
    """Why the order's execution needs a person, or None: it failed, timed out or was stopped (for a
    decided order: at its notification), or it completed having given its notification up (a definition
    that catches the notification's failure into ``notificationError``)."""
    try:
        described = await client.describe_execution(executionArn=execution_of(machine_arn, order_id))
    except Exception:  # no execution for the order: nothing to say here; the invariants will
        return None
    status = described.get("status")
    if status in STUCK:
        after = " after the decision" if decided else ""
        return (
            f"execution {status}{after}: {described.get('error', '')}: {described.get('cause', '')}".rstrip(
                ": "
            )
        )
    if not decided:
        return None
    try:
        output = json.loads(described.get("output") or "{}")
    except ValueError:
        return None
    problem = output.get("notificationError") if isinstance(output, dict) else None
    if problem:
        return f"completed without its notification: {problem.get('Error')}: {problem.get('Cause')}"
    return None
