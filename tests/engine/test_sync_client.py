"""The blocking client: the same calls for code without an event loop."""

from __future__ import annotations

import json

from stepdance.engine import Engine, SyncClient
from stepdance.settings import Settings
from stepdance.store import open_store
from tests.engine.machines import ROLE, SAGA


def test_the_sync_client_runs_a_saga_to_its_end() -> None:
    engine = Engine(open_store("memory://"), Settings(poll_seconds=0.05))
    engine.register("charge", lambda order: {"charged": order["amount"]})
    engine.register("reserve", lambda order: "reserved")
    engine.register("notify", lambda order: None)
    with SyncClient(engine) as client:
        sm = client.create_state_machine(name="saga", definition=json.dumps(SAGA), roleArn=ROLE)
        started = client.start_execution(stateMachineArn=sm["stateMachineArn"], input='{"amount": 2}')
        record = client.run(engine.wait(started["executionArn"], seconds=10))
        described = client.describe_execution(executionArn=started["executionArn"])
    assert record.status == described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["payment"] == {"charged": 2}
