"""``Settings.retry_scale``: the runtime shortens the waits before Retry attempts (scenarios exhaust a retry
budget in seconds), while Wait states and the interpreter's history stay as they were."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.asl.protocol import StartTimer, Step
from stepdance.engine import Client, Engine, TaskFailure
from stepdance.engine.changes import scale_retries
from stepdance.settings import Settings
from tests.engine.machines import chain, history, machine, run, task, types


def test_only_the_retry_timers_are_scaled() -> None:
    step = Step(
        events=[],
        state={},
        commands=[StartTimer("f1#3#retry0.1", 110.0), StartTimer("f1#wait", 160.0)],
    )
    scale_retries(step, now=100.0, scale=0.1)
    assert step.commands == [StartTimer("f1#3#retry0.1", 101.0), StartTimer("f1#wait", 160.0)]


@pytest.fixture
def settings() -> Settings:
    return Settings(lease_seconds=2.0, poll_seconds=0.05, retry_scale=0.0001)


async def test_a_retry_ten_minutes_away_runs_at_once_when_scaled(engine: Engine, client: Client) -> None:
    calls: list[int] = []

    @engine.register("flaky")
    def flaky(_payload: Any) -> dict[str, int]:
        calls.append(1)
        if len(calls) < 3:
            raise TaskFailure("Busy", "try again")
        return {"calls": len(calls)}

    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 600, "MaxAttempts": 3, "BackoffRate": 1}]
    sm = await machine(client, chain(("Flaky", task("flaky", Retry=retry))))
    described = await run(client, engine, sm)  # waits 20 s at most: unscaled, this takes twenty minutes
    assert described["status"] == "SUCCEEDED" and len(calls) == 3
    events = types(await history(client, described["executionArn"]))
    assert events.count("TaskFailed") == 2 and events.count("TaskSucceeded") == 1
