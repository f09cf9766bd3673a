"""The engine's spans: one execution span, a span per state and per task, and after a takeover (a worker
that stopped without handing its executions back) the new worker's spans still hang from the same state
and execution spans: one connected trace."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from stepdance import telemetry
from stepdance.engine import Client, Engine, TaskContext
from stepdance.settings import Settings
from stepdance.store import open_store
from tests.engine.machines import ROLE, chain, task


async def test_a_taken_over_execution_is_still_one_connected_trace(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, lease_seconds=1.0, poll_seconds=0.05)
    store = open_store(settings.store)
    definition = chain(("Work", task("work", ResultPath="$.work")), ("Done", task("done")))
    invoked = asyncio.Event()

    async def stuck(payload: Any, context: TaskContext) -> None:
        invoked.set()
        await asyncio.Event().wait()

    try:
        dead = Engine(store, settings, owner="dead")
        dead.register("work", stuck)
        await dead.start()
        client = Client(dead)
        sm = (await client.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE))[
            "stateMachineArn"
        ]
        header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        arn = (await client.start_execution(stateMachineArn=sm, input="{}", traceHeader=header))[
            "executionArn"
        ]
        await asyncio.wait_for(invoked.wait(), 10)
        await dead.stop(release_leases=False)
        async with Engine(store, settings, owner="alive") as alive:
            alive.register("work", lambda payload: "worked")
            alive.register("done", lambda payload: payload)
            assert (await alive.wait(arn, seconds=15)).status == "SUCCEEDED"
    finally:
        store.close()
    telemetry.flush()
    spans = [s for s in telemetry.read_spans(tmp_path / "traces") if s["traceId"] == header.split("-")[1]]
    names = [s["name"] for s in spans]
    assert names.count("execution " + arn.rsplit(":", 1)[-1]) == 1
    assert names.count("Work") == 1 and names.count("Done") == 1
    assert names.count("task Work") == 2  # the dead worker's (cancelled when it stopped) and the new one's
    ids = {s["spanId"] for s in spans}
    execution = next(s for s in spans if s["name"].startswith("execution "))
    assert execution["parentSpanId"] == "b7ad6b7169203331"  # the caller's span, from traceHeader
    assert all(s["parentSpanId"] in ids for s in spans if s is not execution)
    work = next(s for s in spans if s["name"] == "Work")
    assert all(s["parentSpanId"] == work["spanId"] for s in spans if s["name"] == "task Work")
