"""Google's own ``ExecutionsClient`` against the Executions API served over gRPC by a real engine on SQLite.

Each test runs once per definition language: ASL, and Workflows YAML (skipped while the engine does not
take it). The client is synchronous, so it is called on a thread while the server runs on the test's loop.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

grpc = pytest.importorskip("grpc", reason="grpcio is not installed (pip install 'stepdance[gcp]')")
pytest.importorskip(
    "google.cloud.workflows.executions_v1",
    reason="google-cloud-workflows is not installed (pip install 'stepdance[gcp]')",
)

from google.api_core import exceptions  # noqa: E402
from google.cloud.workflows.executions_v1 import ExecutionsClient  # noqa: E402
from google.cloud.workflows.executions_v1.services.executions.transports import (  # noqa: E402
    ExecutionsGrpcTransport,
)
from google.cloud.workflows.executions_v1.types import Execution, ExecutionView  # noqa: E402

from stepdance.engine import Client, Engine  # noqa: E402
from stepdance.engine.errors import InvalidDefinition  # noqa: E402
from stepdance.gcp import start_executions_server  # noqa: E402
from stepdance.settings import Settings  # noqa: E402
from stepdance.store import open_store  # noqa: E402

pytestmark = pytest.mark.timeout(30)

T = TypeVar("T")
PROJECT = "projects/local/locations/us-central1/workflows"
State = Execution.State


@dataclass(frozen=True)
class Language:
    """The three workflows of the tests in one definition language, and how each one's failure reads."""

    done: str  # returns the argument's orderId
    waits: str  # sleeps for a minute
    fails: str  # fails with "no stock"
    error_context: str


ASL = Language(
    done=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "InputPath": "$.orderId", "End": True}}}
    ),
    waits=json.dumps({"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 60, "End": True}}}),
    fails=json.dumps(
        {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "OrderFailed", "Cause": "no stock"}}}
    ),
    error_context="OrderFailed",
)
WORKFLOWS = Language(
    done="main:\n  params: [args]\n  steps:\n    - done:\n        return: ${args.orderId}\n",
    waits="main:\n  steps:\n    - sleep:\n        call: sys.sleep\n        args:\n          seconds: 60\n",
    fails='main:\n  steps:\n    - fail:\n        raise: "no stock"\n',
    error_context="Error",
)


@dataclass(frozen=True)
class Deployed:
    language: Language
    done: str
    waits: str
    fails: str


@pytest.fixture
async def engine_client(tmp_path: Path) -> AsyncIterator[Client]:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    engine = Engine(store, Settings(lease_seconds=2.0, poll_seconds=0.05))
    await engine.start()
    try:
        yield Client(engine)
    finally:
        await engine.stop()
        store.close()


@pytest.fixture(params=[ASL, WORKFLOWS], ids=["asl", "workflows"])
async def deployed(request: pytest.FixtureRequest, engine_client: Client) -> Deployed:
    language: Language = request.param
    suffix = uuid.uuid4().hex[:8]
    names = {kind: f"order-saga-{kind}-{suffix}" for kind in ("done", "waits", "fails")}
    for kind, name in names.items():
        try:
            await engine_client.create_state_machine(
                name=name, definition=getattr(language, kind), roleArn="arn:aws:iam::123456789012:role/sd"
            )
        except InvalidDefinition:
            pytest.skip("the engine does not run Workflows YAML definitions yet")
    return Deployed(language, **{kind: f"{PROJECT}/{name}" for kind, name in names.items()})


@pytest.fixture
async def executions(engine_client: Client) -> AsyncIterator[ExecutionsClient]:
    server = await start_executions_server(engine_client, "127.0.0.1", 0)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
    finally:
        channel.close()
        await server.stop(None)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def until_state(client: ExecutionsClient, name: str, state: Any, seconds: float = 10.0) -> Execution:
    deadline = time.monotonic() + seconds
    while True:
        execution = await call(client.get_execution, name=name)
        if execution.state == state or time.monotonic() > deadline:
            assert execution.state == state
            return execution
        await asyncio.sleep(0.02)


async def test_create_then_get_until_succeeded_with_the_result(
    deployed: Deployed, executions: ExecutionsClient
) -> None:
    argument = json.dumps({"orderId": "o-1"})
    created = await call(executions.create_execution, parent=deployed.done, execution={"argument": argument})
    assert created.name.startswith(f"{deployed.done}/executions/")
    uuid.UUID(created.name.rsplit("/", 1)[1])
    assert (created.state, created.argument) == (State.ACTIVE, argument)
    assert created.workflow_revision_id

    done = await until_state(executions, created.name, State.SUCCEEDED)
    assert json.loads(done.result) == "o-1"
    assert json.loads(done.argument) == {"orderId": "o-1"}
    assert done.end_time >= done.start_time
    assert done.duration.total_seconds() >= 0
    assert done.workflow_revision_id == created.workflow_revision_id


async def test_a_failure_reads_as_google_shows_it(deployed: Deployed, executions: ExecutionsClient) -> None:
    created = await call(executions.create_execution, parent=deployed.fails, execution={"argument": "{}"})
    failed = await until_state(executions, created.name, State.FAILED)
    assert "no stock" in failed.error.payload
    assert failed.error.context == deployed.language.error_context
    assert not failed.result


async def test_list_pages_newest_first_and_the_basic_view_has_no_argument(
    deployed: Deployed, executions: ExecutionsClient
) -> None:
    created = [
        await call(
            executions.create_execution,
            parent=deployed.done,
            execution={"argument": json.dumps({"orderId": f"o-{n}"})},
        )
        for n in range(3)
    ]
    for execution in created:
        await until_state(executions, execution.name, State.SUCCEEDED)

    def pages(view: Any) -> list[list[Execution]]:
        pager = executions.list_executions(request={"parent": deployed.done, "page_size": 2, "view": view})
        return [list(page.executions) for page in pager.pages]

    basic = await call(pages, ExecutionView.BASIC)
    assert [len(page) for page in basic] == [2, 1]
    listed = [e for page in basic for e in page]
    assert {e.name for e in listed} == {e.name for e in created}
    assert [e.start_time for e in listed] == sorted((e.start_time for e in listed), reverse=True)
    assert all(e.state == State.SUCCEEDED and not e.argument and not e.result for e in listed)

    full = [e for page in await call(pages, ExecutionView.FULL) for e in page]
    assert sorted(json.loads(e.result) for e in full) == ["o-0", "o-1", "o-2"]


async def test_cancel_a_running_execution(deployed: Deployed, executions: ExecutionsClient) -> None:
    created = await call(executions.create_execution, parent=deployed.waits, execution={"argument": "{}"})
    cancelled = await call(executions.cancel_execution, name=created.name)
    assert (cancelled.name, cancelled.state) == (created.name, State.CANCELLED)
    assert cancelled.end_time >= cancelled.start_time
    await until_state(executions, created.name, State.CANCELLED)


async def test_cancel_a_finished_execution_is_a_failed_precondition(
    deployed: Deployed, executions: ExecutionsClient
) -> None:
    created = await call(
        executions.create_execution, parent=deployed.done, execution={"argument": '{"orderId": "o-9"}'}
    )
    await until_state(executions, created.name, State.SUCCEEDED)
    with pytest.raises(exceptions.FailedPrecondition, match="Execution is not active"):
        await call(executions.cancel_execution, name=created.name)


async def test_unknown_workflow_and_execution_are_not_found(
    deployed: Deployed, executions: ExecutionsClient
) -> None:
    unknown = f"{PROJECT}/no-such-workflow"
    with pytest.raises(exceptions.NotFound, match=f"Resource '{unknown}' was not found"):
        await call(executions.create_execution, parent=unknown, execution={"argument": "{}"})
    with pytest.raises(exceptions.NotFound):
        await call(executions.list_executions, parent=unknown)
    missing = f"{deployed.done}/executions/{uuid.uuid4()}"
    with pytest.raises(exceptions.NotFound, match=f"Resource '{missing}' was not found"):
        await call(executions.get_execution, name=missing)
    with pytest.raises(exceptions.NotFound):
        await call(executions.cancel_execution, name=missing)


async def test_bad_argument_and_malformed_names_are_invalid_arguments(
    deployed: Deployed, executions: ExecutionsClient
) -> None:
    with pytest.raises(exceptions.InvalidArgument, match="valid JSON"):
        await call(executions.create_execution, parent=deployed.done, execution={"argument": "{orderId: 1}"})
    with pytest.raises(exceptions.InvalidArgument, match="'parent'"):
        await call(executions.create_execution, parent="order-saga", execution={"argument": "{}"})
    with pytest.raises(exceptions.InvalidArgument, match="'name'"):
        await call(executions.get_execution, name=deployed.done)


async def test_an_unexpected_error_is_internal_without_a_traceback(
    engine_client: Client, executions: ExecutionsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: Any) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine_client, "describe_execution", broken)
    with pytest.raises(exceptions.InternalServerError) as raised:
        await call(executions.get_execution, name=f"{PROJECT}/order-saga/executions/{uuid.uuid4()}")
    assert raised.value.message == "Internal error; see the server's log"
