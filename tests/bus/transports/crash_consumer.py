"""A consumer process for the crash test: ``python -m tests.bus.transports.crash_consumer URL TOPIC GROUP
EFFECT_FILE``. It takes one message, writes its effect (the message id and attempt) to EFFECT_FILE, says
``effect`` on stdout and then waits to be killed without ever acking."""

from __future__ import annotations

import asyncio
import os
import sys

from stepdance.bus.transports import Delivery, open_transport


def record(effect: str, line: str) -> None:
    with open(effect, "a") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())


async def main(url: str, topic: str, group: str, effect: str) -> None:
    transport = open_transport(url)
    subscription = await transport.subscribe(topic, group, ack_wait=1.0)
    print("ready", flush=True)
    deliveries: list[Delivery] = []
    while not deliveries:
        deliveries = await subscription.fetch(1, 5.0)
    delivery = deliveries[0]
    record(effect, f"{delivery.message.id} {delivery.attempt}\n")
    print("effect", flush=True)
    await asyncio.sleep(3600)  # the test kills us here, between the effect and the ack


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
