"""A worker's background loops: keeping leases, taking over dead workers' executions, fetching signals.

Leases are renewed every quarter of their length, and expired ones (a worker that died, or executions
nobody owns yet) are claimed at the same pace, straight away at start. Signals queued in the store by
other processes are fetched every ``poll_seconds``, or at once when this process queued one itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from stepdance.engine.aio import wait_event
from stepdance.engine.signals import decode
from stepdance.store import StoreError

if TYPE_CHECKING:
    from stepdance.engine.runtime import Engine

log = logging.getLogger(__name__)

CLAIM_BATCH = 200


async def keep_leases(engine: Engine) -> None:
    lease = engine.settings.lease_seconds
    while True:
        try:
            now = engine.clock()
            await asyncio.to_thread(engine.store.renew_leases, engine.owner, now + lease)
            await take_over(engine)
        except StoreError as error:
            log.warning("could not renew or claim leases: %s", error)
        await asyncio.sleep(lease / 4)


async def take_over(engine: Engine) -> int:
    """Claim executions whose lease expired and advance them here; returns how many."""
    claimed = 0
    while True:
        now = engine.clock()
        lease_until = now + engine.settings.lease_seconds
        records = await asyncio.to_thread(
            engine.store.claim_executions, engine.owner, now, lease_until, CLAIM_BATCH
        )
        if records:
            log.info("took over %d executions", len(records))
            await engine.adopt(records)
        claimed += len(records)
        if len(records) < CLAIM_BATCH:
            return claimed


async def fetch_signals(engine: Engine) -> None:
    ready = engine.signals_ready
    while True:
        await wait_event(ready, engine.settings.poll_seconds)
        ready.clear()
        try:
            queued = await asyncio.to_thread(engine.store.fetch_signals, engine.owner, 1000)
        except StoreError as error:
            log.warning("could not fetch signals: %s", error)
            continue
        for signal in queued:
            engine.deliver(signal.execution_arn, decode(signal.body), signal.id)


async def readopt(engine: Engine, arn: str, delay: float = 0.05) -> None:
    """Advance an execution again from the store after its actor failed, if it is still ours."""
    for _ in range(20):
        await asyncio.sleep(delay)
        try:
            record = await asyncio.to_thread(engine.store.get_execution, arn)
        except StoreError as error:
            log.warning("could not reload %s: %s", arn, error)
            delay = min(delay * 2, 2.0)
            continue
        if record.owner == engine.owner and record.status == "RUNNING":
            await engine.adopt([record])
        return
    log.error("gave up reloading %s; its lease will expire and another worker will take it over", arn)
