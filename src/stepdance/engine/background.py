"""A worker's background loops: keeping leases, taking over dead workers' executions, fetching signals.

Leases are renewed every quarter of their length; expired ones (a worker that died) and executions nobody
owns yet are claimed straight away at start, then at least every second. Signals queued in the store by
other processes are fetched every ``poll_seconds``, or at once when this process queued one itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from stepdance.aio import wait_event
from stepdance.engine.signals import decode
from stepdance.store import StoreError

if TYPE_CHECKING:
    from stepdance.engine.runtime import Engine

log = logging.getLogger(__name__)

CLAIM_SECONDS = 1.0  # how soon an execution nobody owns (started by a client that does not run them) is taken


async def keep_leases(engine: Engine) -> None:
    """Renew every quarter lease; look for executions to take over at least every second."""
    lease = engine.settings.lease_seconds
    renewed = float("-inf")
    while True:
        pause = min(lease / 4, CLAIM_SECONDS)
        try:
            now = engine.clock()
            if now - renewed >= lease / 4:
                await engine.call(engine.store.renew_leases, engine.owner, now + lease)
                renewed = now
            if await take_over(engine) == engine.settings.claim_batch:
                pause = engine.settings.poll_seconds  # more are waiting: come back soon, leave some to others
        except StoreError as error:
            log.warning("could not renew or claim leases: %s", error)
        await asyncio.sleep(pause)


async def take_over(engine: Engine) -> int:
    """Claim up to ``claim_batch`` executions whose lease expired (or that nobody owns) and advance them
    here; returns how many. One batch per tick leaves the rest to other workers."""
    now = engine.clock()
    lease_until = now + engine.settings.lease_seconds
    claim = engine.store.claim_executions
    records = await engine.call(claim, engine.owner, now, lease_until, engine.settings.claim_batch)
    if records:
        log.info("took over %d executions", len(records))
        await engine.adopt(records)
    return len(records)


async def fetch_signals(engine: Engine) -> None:
    ready = engine.signals_ready
    while True:
        await wait_event(ready, engine.settings.poll_seconds)
        ready.clear()
        try:
            queued = await engine.call(engine.store.fetch_signals, engine.owner, 1000)
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
            record = await engine.call(engine.store.get_execution, arn)
        except StoreError as error:
            log.warning("could not reload %s: %s", arn, error)
            delay = min(delay * 2, 2.0)
            continue
        if record.owner == engine.owner and record.status == "RUNNING":
            await engine.adopt([record])
        return
    log.error("gave up reloading %s; its lease will expire and another worker will take it over", arn)
