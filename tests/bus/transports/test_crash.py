"""At least once across a crash: a consumer process that did its effect but was SIGKILLed before its ack
loses the message, and another consumer of the group gets it again (the inbox then de-duplicates)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from stepdance.bus.transports import Message, Transport
from tests.bus.transports.backends import Names, collect

ROOT = Path(__file__).resolve().parents[3]


async def line(process: asyncio.subprocess.Process, errors: Path) -> str:
    assert process.stdout is not None
    text = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
    if not text:
        pytest.fail(f"the consumer process ended: {await asyncio.to_thread(errors.read_text)}")
    return text


@pytest.mark.slow
@pytest.mark.timeout(60)
async def test_a_consumer_killed_between_effect_and_ack_loses_the_message_to_another(
    transport_url: str, transport: Transport, names: Names, tmp_path: Path
) -> None:
    topic, group = names.topic(), names.group()
    effects, errors = tmp_path / "effects.txt", tmp_path / "consumer.err"
    with errors.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.bus.transports.crash_consumer"),
            *(transport_url, topic, group, str(effects)),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    try:
        assert await line(process, errors) == "ready"
        await transport.publish(topic, [Message(id="order-1/charge", body=b"charge 10")])
        assert await line(process, errors) == "effect"
        process.kill()  # SIGKILL: no ack, no goodbye
        await asyncio.wait_for(process.wait(), 10)

        survivor = await transport.subscribe(topic, group, ack_wait=1.0)
        [again] = await collect(survivor, 1, seconds=15)

        assert again.message.id == "order-1/charge" and again.attempt >= 2
        await again.ack()
        assert effects.read_text().split() == [
            "order-1/charge",
            "1",
        ]  # the effect happened once, before the kill
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
