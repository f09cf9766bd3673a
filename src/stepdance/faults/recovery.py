"""What a person does to finish the orders a run left for them, as a scenario's ``recover`` declares it.
``redrive``: every dead letter of the design's bus goes back to its target, and every failed, timed-out or
stopped execution of the listed orders is redriven from the state where it stopped (RedriveExecution). The
same as ``stepdance dlq redrive`` and ``stepdance executions redrive`` do by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stepdance.bus import Client as EventsClient
from stepdance.engine.arns import execution_of
from stepdance.engine.errors import StepFunctionsError


async def perform(action: str, design: Any, listed: Mapping[str, str]) -> str:
    """Carry out ``action`` on the running ``design`` for the ``listed`` orders; what it did, in words."""
    if action != "redrive":
        raise ValueError(f"unknown recovery {action!r}")
    done: list[str] = []
    bus = getattr(design, "bus", None)
    if bus is not None:
        answer = await EventsClient(bus).redrive_dead_letters()
        done.append(f"{answer['RedrivenCount']} dead letters redriven")
    client, machine_arn = getattr(design, "client", None), getattr(design, "machine_arn", "")
    if client is not None and machine_arn:
        redriven = 0
        for order_id, why in sorted(listed.items()):
            if not why.startswith("execution "):
                continue
            try:
                await client.redrive_execution(executionArn=execution_of(machine_arn, order_id))
            except StepFunctionsError:  # not redrivable (already running again, say): the final check says
                continue
            redriven += 1
        done.append(f"{redriven} executions redriven")
    return ", ".join(done)
