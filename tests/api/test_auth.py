"""SigV4 on the wire: with access keys configured, only requests signed with one of them are served, and a
refused request stores nothing. Beyond loopback, ``stepdance serve`` will not start without keys."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.api.served import ACCESS_KEY, SECRET_KEY, Served, serving

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(
        tmp_path_factory.mktemp("guarded"),
        "--access-key",
        f"{ACCESS_KEY}:{SECRET_KEY}",
        env={"STEPDANCE_API_KEYS": "AKIDSECOND:second-secret"},
    ) as server:
        yield server


def names(served: Served) -> set[str]:
    return {m["name"] for m in served.client("stepfunctions").list_state_machines()["stateMachines"]}


def code_of(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(refused.value.response["Error"]["Code"])


def test_a_request_signed_with_a_configured_key_is_served(guarded: Served) -> None:
    name = f"ok-{uuid.uuid4().hex[:6]}"
    guarded.client("stepfunctions").create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    other = guarded.client("stepfunctions", key="AKIDSECOND", secret="second-secret")
    assert name in {m["name"] for m in other.list_state_machines()["stateMachines"]}
    events = guarded.client("events")
    assert (
        events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])["FailedEntryCount"]
        == 0
    )


def test_a_wrong_secret_or_an_unknown_key_is_refused_and_stores_nothing(guarded: Served) -> None:
    name = f"no-{uuid.uuid4().hex[:6]}"
    wrong = guarded.client("stepfunctions", secret="not-the-secret")
    create = {"name": name, "definition": PASS, "roleArn": ROLE}
    assert code_of(lambda: wrong.create_state_machine(**create)) == "InvalidSignatureException"
    stranger = guarded.client("stepfunctions", key="AKIDNOBODY")
    assert code_of(lambda: stranger.create_state_machine(**create)) == "UnrecognizedClientException"
    assert name not in names(guarded)


def test_an_unsigned_request_is_refused(guarded: Served) -> None:
    response = httpx.post(
        guarded.url + "/",
        content=b"{}",
        headers={
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
            "Content-Type": "application/x-amz-json-1.0",
        },
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
    assert httpx.get(guarded.url + "/health", timeout=10).json()["auth"] is True


def test_binding_beyond_loopback_without_keys_refuses_to_start(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "stepdance.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        env={"STEPDANCE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert "needs access keys" in finished.stderr and "Traceback" not in finished.stderr
    assert not (tmp_path / "engine.db").exists()  # refused before anything was opened


def test_the_dashboard_asks_for_the_access_key_and_acts_only_with_it(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as web:
        refused = web.get("/dashboard/executions")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert web.get("/dashboard/executions", auth=(ACCESS_KEY, "wrong")).status_code == 401
        assert web.get("/dashboard/executions", auth=("AKIDNOBODY", SECRET_KEY)).status_code == 401
        page = web.get("/dashboard/demo", auth=(ACCESS_KEY, SECRET_KEY))
        assert page.status_code == 200
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        # the page's token alone is not enough: an action needs the key as well
        act = {"csrf": token, "orders": "1", "confirmed": "yes"}
        assert web.post("/dashboard/actions/demo", data=act).status_code == 401
        assert "No demo run yet" in web.get("/dashboard/demo", auth=("AKIDSECOND", "second-secret")).text


def test_the_services_over_http_ask_for_the_access_key_too(guarded: Served) -> None:
    body = {"orderId": "o-auth"}
    with httpx.Client(base_url=guarded.url, timeout=10) as web:
        assert web.post("/services/orders/complete", json=body).status_code == 401
        answered = web.post("/services/orders/complete", json=body, auth=(ACCESS_KEY, SECRET_KEY))
        assert answered.status_code == 404 and answered.json()["error"] == "UnknownOrder"


def test_eventarcs_api_needs_the_access_key_too(guarded: Served) -> None:
    path = "/v1/projects/p/locations/l/triggers"
    trigger = {"eventFilters": [{"attribute": "type", "value": "T"}], "destination": "http://127.0.0.1:9/"}
    with httpx.Client(base_url=guarded.url, timeout=10) as web:
        assert web.get(path).status_code == 401
        assert web.post(f"{path}?triggerId=sneaky", json=trigger).status_code == 401
        assert web.get(path, auth=(ACCESS_KEY, "wrong")).status_code == 401
        made = web.post(f"{path}?triggerId=allowed", json=trigger, auth=(ACCESS_KEY, SECRET_KEY))
        assert made.status_code == 200 and made.json()["done"] is True
        listed = web.get(path, auth=("AKIDSECOND", "second-secret")).json()["triggers"]
        assert [t["name"] for t in listed] == ["projects/p/locations/l/triggers/allowed"]
