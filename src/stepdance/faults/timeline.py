"""One order's path end to end, from what each part recorded: the orders view, the payment ledger, the
reservation, the notifications, the execution's history (when an engine ran it) and the dead letters that
name it (when a bus carried it). Sorted by time; it only reads, and opens no store or catalog that is not
already there (an embedded file that does not exist was never written by any design).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from stepdance.bus import open_catalog
from stepdance.engine import Client, Engine
from stepdance.engine.arns import execution_of
from stepdance.faults.evidence import dead_letters, order_of
from stepdance.order.designs.base import Services
from stepdance.settings import Settings
from stepdance.store import open_store


async def order_timeline(
    order_id: str,
    services: Services,
    settings: Settings,
    *,
    engine: Client | None = None,
    catalog: Any = None,
) -> list[dict[str, Any]]:
    """The order's steps, oldest first: ``{"at": epoch seconds, "time": ISO, "where": part, "what": ...}``;
    empty when no service knows the order. ``engine`` (a Step Functions client) and ``catalog`` (the bus's):
    a process that has them open already (``stepdance serve``) reads through them instead of opening the
    store and the catalog again for each call."""
    steps = await asyncio.to_thread(_from_services, order_id, services)
    if not steps:
        return []
    if engine is not None:
        steps += await _from_client(order_id, engine)
    else:
        steps += await _from_engine(order_id, settings)
    if catalog is not None:
        steps += await asyncio.to_thread(_letters_of, order_id, catalog)
    else:
        steps += await asyncio.to_thread(_from_bus, order_id, settings)
    steps.sort(key=lambda s: s["at"])
    for step in steps:
        step["time"] = dt.datetime.fromtimestamp(step["at"], dt.UTC).isoformat(timespec="milliseconds")
    return steps


def _step(at: Any, where: str, what: str) -> dict[str, Any]:
    return {"at": float(at), "where": where, "what": what}


def _from_services(order_id: str, services: Services) -> list[dict[str, Any]]:
    view = services.orders.get(order_id)
    if view is None:
        return []
    steps = [_step(view["placedAt"], "orders", f"placed ({view['design']}), {view['amountCents']} cents")]
    if view["decidedAt"] is not None:
        reason = f": {view['reason']}" if view["reason"] else ""
        steps.append(_step(view["decidedAt"], "orders", f"{view['status']}{reason}"))
    charge = services.payment.get(order_id)
    if charge is not None:
        said = f"charge {charge['chargeId']} {charge['status']}" + (
            f": {charge['reason']}" if charge["reason"] else ""
        )
        steps.append(_step(charge["chargedAt"], "payment", said))
        if charge["refundedAt"] is not None:
            steps.append(_step(charge["refundedAt"], "payment", f"refunded {charge['amountCents']} cents"))
    steps += [
        _step(e["at"], "payment ledger", f"{e['kind']} {e['amountCents']:+d} cents")
        for e in services.payment.ledger(order_id)
    ]
    held = services.inventory.get(order_id)
    if held is not None:
        steps.append(
            _step(held["reservedAt"], "inventory", f"{held['quantity']} x {held['sku']} {held['status']}")
        )
        if held["releasedAt"] is not None:
            steps.append(
                _step(held["releasedAt"], "inventory", f"released {held['quantity']} x {held['sku']}")
            )
    steps += [
        _step(m["sentAt"], "notification", f"{m['kind']} sent to {m['to']} ({m['channel']})")
        for m in services.notification.sent(order_id)
    ]
    return steps


def _exists(url: str) -> bool:
    """False for an embedded SQLite file that is not there (opening it would create it)."""
    if not url.startswith("sqlite:///"):
        return True
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path).exists()


async def _from_engine(order_id: str, settings: Settings) -> list[dict[str, Any]]:
    if not _exists(settings.store):
        return []
    store = open_store(settings.store)
    try:
        return await _from_client(order_id, Client(Engine(store, settings, worker=False)))
    finally:
        store.close()


async def _from_client(order_id: str, client: Client) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for machine in (await client.list_state_machines())["stateMachines"]:
        arn = execution_of(machine["stateMachineArn"], order_id)
        try:
            described = await client.describe_execution(executionArn=arn)
        except Exception:  # no execution of this machine for the order
            continue
        token: str | None = None
        while True:
            page = await client.get_execution_history(executionArn=arn, nextToken=token)
            steps += [_history_step(machine["name"], e) for e in page["events"]]
            token = page.get("nextToken")
            if not token:
                break
        if described["status"] != "RUNNING" and "error" in described:
            steps.append(
                _step(
                    _epoch(described.get("stopDate")),
                    f"engine {machine['name']}",
                    f"execution {described['status']}: {described['error']}",
                )
            )
    return steps


def _history_step(machine: str, event: dict[str, Any]) -> dict[str, Any]:
    name = ""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            name = str(value.get("name") or value.get("error") or "")
    return _step(_epoch(event["timestamp"]), f"engine {machine}", f"{event['type']} {name}".strip())


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value or 0.0)


def _from_bus(order_id: str, settings: Settings) -> list[dict[str, Any]]:
    if not _exists(settings.catalog):
        return []
    catalog = open_catalog(settings.catalog)
    try:
        return _letters_of(order_id, catalog)
    finally:
        catalog.close()


def _letters_of(order_id: str, catalog: Any) -> list[dict[str, Any]]:
    return [
        _step(
            letter.created,
            f"bus {letter.rule}",
            f"dead letter {letter.id} at {letter.target_id} after {letter.attempts} attempt(s): "
            f"{letter.error_code}: {letter.error_message}",
        )
        for letter in dead_letters(catalog)
        if order_of(letter.body) == order_id
    ]
