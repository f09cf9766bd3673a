"""Real crashes: SIGKILL a worker process in the middle of executions, start another, compare with an
uninterrupted run, and count every handler invocation in a side file.

Killed inside a Wait, a retry back-off, a Map and a Parallel, while a task is in flight, and inside a Cloud
Workflows execution (a ``sys.sleep``, a parallel ``for``, connector calls as tasks): every
execution must end as the same executions end when run without interruption (the in-memory interpreter),
and no task may have been invoked twice except those in flight at the kill. On PostgreSQL, two workers
share the executions and the survivor takes over the dead one's once its lease expires.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from stepdance.asl.definition import Definition
from stepdance.asl.simulate import run as simulate
from stepdance.engine import Client, Engine, idempotency_key
from stepdance.gcw import syntax as gcw_syntax
from stepdance.gcw.simulate import simulate as simulate_workflows
from stepdance.settings import Settings
from stepdance.store import ExecutionRecord, Store, open_store
from tests.engine.crash_handlers import CONNECTOR, HANDLERS
from tests.engine.crash_harness import Workers, wait_until
from tests.engine.machines import ROLE, chain, task
from tests.store.backends import url_for

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def work(step: str, **fields: Any) -> dict[str, Any]:
    return task("work", Parameters={"step": step, "n.$": "$.n", **fields.pop("parameters", {})}, **fields)


WAIT = chain(
    ("A", work("wait-a", ResultPath="$.a")),
    ("Pause", {"Type": "Wait", "Seconds": 2}),
    ("B", work("wait-b", ResultPath="$.b")),
)
BACKOFF = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 1}]
RETRY = chain(
    ("Flaky", task("flaky", Parameters={"n.$": "$.n", "retry.$": "$$.State.RetryCount"}, Retry=BACKOFF))
)
ITEM = {
    "StartAt": "W",
    "States": {"W": task("work", Parameters={"step": "map", "n.$": "$", "sleep": 0.3}, End=True)},
}
MAP = chain(("Each", {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ItemProcessor": ITEM}))
BRANCH_A = chain(("A1", work("par-a1")), ("Pause", {"Type": "Wait", "Seconds": 2}), ("A2", work("par-a2")))
BRANCH_B = chain(("B1", work("par-b", parameters={"sleep": 0.4})))
PARALLEL = chain(("Both", {"Type": "Parallel", "Branches": [BRANCH_A, BRANCH_B]}))
SLOW = chain(("Slow", work("slow", parameters={"sleep": 3})))
LONG = chain(
    ("A", work("long-a", parameters={"sleep": 0.2})),
    ("Pause", {"Type": "Wait", "Seconds": 2}),
    ("B", work("long-b")),
)
# The same kind of work as a Cloud Workflows definition: the connector call is a task like ASL's.
WORKFLOWS = f"""
main:
  params: [args]
  steps:
    - first:
        call: {CONNECTOR}
        args: {{step: gcw-a, n: '${{args.n}}'}}
        result: a
    - pause:
        call: sys.sleep
        args: {{seconds: 2}}
    - each:
        parallel:
          concurrency_limit: 2
          for:
            value: i
            in: [1, 2, 3, 4]
            steps:
              - item:
                  call: {CONNECTOR}
                  args: {{step: gcw-each, n: '${{i}}', sleep: 0.2}}
    - last:
        call: {CONNECTOR}
        args: {{step: gcw-b, n: '${{args.n}}'}}
        result: b
    - done:
        return: {{a: '${{a}}', b: '${{b}}'}}
"""

Definition_ = dict[str, Any] | str  # ASL as a dict, Workflows as its YAML text

CASES: list[tuple[str, Definition_, dict[str, Any]]] = [
    ("wait", WAIT, {"n": 1}),
    ("wait", WAIT, {"n": 2}),
    ("retry", RETRY, {"n": 3}),
    ("retry", RETRY, {"n": 4}),
    ("map", MAP, {"items": [1, 2, 3, 4, 5, 6]}),
    ("parallel", PARALLEL, {"n": 5}),
    ("slow", SLOW, {"n": 6}),
    ("workflows", WORKFLOWS, {"n": 7}),
]


async def _start(store: Store, cases: list[tuple[str, Definition_, dict[str, Any]]]) -> list[str]:
    """Start the executions from a process that does not run them: workers take them over."""
    async with Engine(store, Settings(), worker=False) as engine:
        client = Client(engine)
        machines: dict[str, str] = {}
        arns = []
        for name, definition, input in cases:
            if name not in machines:
                created = await client.create_state_machine(
                    name=name,
                    definition=definition if isinstance(definition, str) else json.dumps(definition),
                    roleArn=ROLE,
                )
                machines[name] = created["stateMachineArn"]
            started = await client.start_execution(stateMachineArn=machines[name], input=json.dumps(input))
            arns.append(started["executionArn"])
        return arns


def start_executions(store: Store, cases: list[tuple[str, Definition_, dict[str, Any]]]) -> list[str]:
    return asyncio.run(_start(store, cases))


def in_flight(store: Store, arns: list[str]) -> set[str]:
    """Idempotency keys of the handler tasks whose results were not committed."""
    return {
        idempotency_key(t.execution_arn, t.task_id) for t in store.open_tasks(arns) if t.kind == "handler"
    }


def finished(store: Store, arns: list[str]) -> bool:
    return all(store.get_execution(arn).status != "RUNNING" for arn in arns)


def assert_same_as_uninterrupted(
    store: Store, arns: list[str], cases: list[tuple[str, Definition_, dict[str, Any]]]
) -> None:
    for arn, (_, definition, input) in zip(arns, cases, strict=True):
        record: ExecutionRecord = store.get_execution(arn)
        if isinstance(definition, str):
            expected = simulate_workflows(
                gcw_syntax.parse(definition), json.dumps(input), handlers={CONNECTOR: HANDLERS["work"]}
            )
        else:
            expected = simulate(Definition.parse(definition), json.dumps(input), handlers=HANDLERS)
        assert (record.status, json.loads(record.output or "null")) == (
            expected.status,
            json.loads(expected.output or "null"),
        ), arn
        ids = [e["id"] for e in store.get_history(arn, 1000).items]
        assert ids == list(range(1, len(ids) + 1)), f"history of {arn} has gaps or repeats"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_worker_s_executions_end_as_if_nothing_happened(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = open_store(url_for(backend, tmp_path, request))
    arns = start_executions(store, CASES)
    workers = Workers(
        url_for(backend, tmp_path, request) if backend == "sqlite" else _same_url(store, request),
        tmp_path / "log",
    )
    try:
        first = workers.start()

        def everyone_is_mid_way() -> bool:
            return (
                workers.count("end", "wait-a") >= 2
                and workers.count("fail", "flaky") >= 2
                and workers.count("end", "map") >= 2
                and workers.count("end", "par-b") >= 1
                and workers.count("start", "slow") >= 1
                and workers.count("end", "gcw-a") >= 1
            )

        wait_until(
            everyone_is_mid_way, 20, f"every execution to be mid-way\n{workers.output()}\n{workers.lines()}"
        )
        workers.kill(first)
        assert workers.count("end", "map") < 6 and workers.count("start", "wait-b") == 0
        assert workers.count("start", "par-a2") == 0 and workers.count("end", "slow") == 0
        assert workers.count("start", "gcw-b") == 0
        owed = in_flight(store, arns)
        second = workers.start()
        wait_until(lambda: finished(store, arns), 30, "every execution to finish")
        assert workers.stop(second) == 0
    finally:
        workers.close()
    assert_same_as_uninterrupted(store, arns, CASES)
    invoked_again = {key for key, times in workers.invocations().items() if times > 1}
    assert invoked_again <= owed, "a task whose result was committed ran again"
    assert invoked_again, "the task in flight at the kill was not invoked again"
    store.close()


def _same_url(store: Store, request: pytest.FixtureRequest) -> str:
    tables = store.tables  # type: ignore[attr-defined]
    prefix = tables.executions.name.removesuffix("executions")
    from tests.store.backends import POSTGRES

    return f"{POSTGRES}?schema={tables.metadata.schema}&prefix={prefix}"


@pytest.mark.slow
@pytest.mark.postgres
def test_of_two_workers_sharing_a_store_one_dies_and_the_other_takes_over_its_executions(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = url_for("postgres", tmp_path, request)
    store = open_store(url)
    workers = Workers(url, tmp_path / "log", env={"STEPDANCE_CLAIM_BATCH": "2"})
    cases = [("long", LONG, {"n": n}) for n in range(8)]
    try:
        first, second = workers.start(), workers.start()
        for process in (first, second):
            workers.ready(process)
        arns = start_executions(store, cases)

        def owners() -> dict[str, str | None]:
            return {arn: store.get_execution(arn).owner for arn in arns}

        wait_until(lambda: workers.count("end", "long-a") == 8, 20, "every execution to reach its Wait")
        pids = {str(p.pid): p for p in (first, second)}
        held = {arn: (owner or "").split(":")[1] for arn, owner in owners().items()}
        assert set(held.values()) <= set(pids), "an execution is held by neither worker"
        # How the two split the work depends on which polls first (usually both hold some, but a busy
        # machine may let one claim all): the one holding the most dies, so there is always a takeover.
        counts = {pid: list(held.values()).count(pid) for pid in pids}
        doomed = pids[max(counts, key=lambda pid: counts[pid])]
        survivor = second if doomed is first else first
        workers.kill(doomed)
        owed = in_flight(store, arns)
        wait_until(lambda: finished(store, arns), 30, "the survivor to finish every execution")
        assert workers.stop(survivor) == 0
        assert_same_as_uninterrupted(store, arns, cases)
        taken_over = [arn for arn, pid in held.items() if pid == str(doomed.pid)]
        assert taken_over and all(owners()[arn].split(":")[1] == str(survivor.pid) for arn in taken_over)  # type: ignore[union-attr]
        invoked_again = {key for key, times in workers.invocations().items() if times > 1}
        assert invoked_again <= owed
    finally:
        workers.close()
        store.close()
