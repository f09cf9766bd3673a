"""Eventarc's REST API under ``stepdance serve``: Google's ``google-cloud-eventarc`` client (REST transport)
creates, reads, lists, updates and deletes a trigger, the trigger delivers the choreographed saga's events to
a real HTTP receiver, and bad calls get Google's JSON errors without changing what is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

eventarc = pytest.importorskip("google.cloud.eventarc_v1", reason="google-cloud-eventarc is not installed")

from google.api_core import exceptions  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.protobuf import field_mask_pb2  # noqa: E402

from stepdance.bus.cloudevents import from_http  # noqa: E402
from tests.api.served import Served, eventually, serving  # noqa: E402
from tests.bus.test_targets import Endpoint, endpoint  # noqa: E402

__all__ = ["endpoint"]
pytestmark = pytest.mark.timeout(120)
PARENT = "projects/shop/locations/europe-west1"
CHANNEL = f"{PARENT}/channels/stepdance-choreographed"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("eventarc")) as running:
        yield running


def _client(served: Served) -> Any:
    return eventarc.EventarcClient(
        credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": served.url}
    )


def _trigger(url: str, kind: str = "StockReserved") -> Any:
    return eventarc.Trigger(
        event_filters=[eventarc.EventFilter(attribute="type", value=kind)],
        destination=eventarc.Destination(http_endpoint=eventarc.HttpEndpoint(uri=url)),
        channel=CHANNEL,
        retry_policy=eventarc.Trigger.RetryPolicy(max_attempts=3),
    )


def test_googles_client_manages_a_trigger_that_delivers_the_sagas_events(
    served: Served, endpoint: Endpoint
) -> None:
    client = _client(served)
    made = client.create_trigger(
        parent=PARENT, trigger=_trigger(endpoint.url + "/first"), trigger_id="reserved"
    ).result(timeout=30)
    assert made.name == f"{PARENT}/triggers/reserved" and made.uid
    assert made.destination.http_endpoint.uri == endpoint.url + "/first"
    assert client.get_trigger(name=made.name).retry_policy.max_attempts == 3
    assert made.name in [t.name for t in client.list_triggers(parent=PARENT)]

    moved = _trigger(endpoint.url + "/second")
    moved.name = made.name
    mask = field_mask_pb2.FieldMask(paths=["destination"])
    updated = client.update_trigger(trigger=moved, update_mask=mask).result(timeout=30)
    assert updated.destination.http_endpoint.uri == endpoint.url + "/second"
    assert updated.retry_policy.max_attempts == 3  # not in the mask: kept

    events = served.client("events")
    detail = json.dumps({"orderId": "ea-1"})
    events.put_events(
        Entries=[
            {"Source": "orders", "DetailType": "OrderCreated", "Detail": detail, "EventBusName": "default"}
        ]
    )
    eventually(lambda: endpoint.requests)
    headers, body = endpoint.requests[0]
    cloud = from_http(headers, body)
    assert (cloud.type, cloud.subject, cloud.source) == ("StockReserved", "ea-1", "stepdance.inventory")

    client.delete_trigger(name=made.name).result(timeout=30)
    with pytest.raises(exceptions.NotFound):
        client.get_trigger(name=made.name)
    assert made.name not in [t.name for t in client.list_triggers(parent=PARENT)]


def _call(served: Served, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{served.url}/v1/{PARENT}{path}", timeout=10, **kwargs)


@pytest.mark.parametrize(
    ("body", "query", "status", "said"),
    [
        (
            {"eventFilters": [], "destination": "http://h/"},
            "triggerId=bad",
            400,
            "/eventFilters: a filter on 'type' is required",
        ),
        ({"destination": "ftp://x"}, "triggerId=bad", 400, "/eventFilters: required"),
        (
            {"eventFilters": [{"attribute": "type", "value": "T"}], "destination": "ftp://h/"},
            "triggerId=x",
            400,
            "/destination: 'ftp://h/' is not an http(s) URL",
        ),
        (
            {"eventFilters": [{"attribute": "type", "value": "T"}], "destination": "http://h/"},
            "",
            400,
            "triggerId: required",
        ),
        (
            {
                "eventFilters": [{"attribute": "type", "value": "T"}],
                "destination": "http://h/",
                "channel": "nowhere",
            },
            "triggerId=x",
            400,
            "/channel: there is no event bus 'nowhere'",
        ),
        (
            {"eventFilters": [{"attribute": "type", "value": "T"}], "destination": "http://h/"},
            "triggerId=Bad_Id",
            400,
            "/name: 'Bad_Id' is not a trigger id",
        ),
        (
            {"eventFilters": [{"attribute": "type", "value": "T"}], "destination": "http://h/"},
            "triggerId=kept",
            409,
            "Trigger projects/shop/locations/europe-west1/triggers/kept already exists.",
        ),
    ],
)
def test_a_bad_create_gets_googles_error_and_stores_nothing(
    served: Served, body: dict[str, Any], query: str, status: int, said: str
) -> None:
    kept = {"eventFilters": [{"attribute": "type", "value": "K"}], "destination": "http://127.0.0.1:9/k"}
    if not _call(served, "GET", "/triggers/kept").is_success:
        assert _call(served, "POST", "/triggers?triggerId=kept", json=kept).is_success
    answer = _call(served, "POST", f"/triggers?{query}", json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == status and said in error["message"]
    assert error["status"] == {400: "INVALID_ARGUMENT", 409: "ALREADY_EXISTS"}[status]
    listed = {t["name"].rsplit("/", 1)[1]: t for t in _call(served, "GET", "/triggers").json()["triggers"]}
    assert not {"bad", "x", "Bad_Id"} & set(listed)
    assert listed["kept"]["destination"] == {"httpEndpoint": {"uri": "http://127.0.0.1:9/k"}}


def test_validate_only_changes_nothing_and_missing_names_are_not_found(served: Served) -> None:
    body = {"eventFilters": [{"attribute": "type", "value": "T"}], "destination": "http://127.0.0.1:9/v"}
    answer = _call(served, "POST", "/triggers?triggerId=checked&validateOnly=true", json=body)
    assert answer.status_code == 200 and answer.json()["done"] is True and "response" not in answer.json()
    assert _call(served, "GET", "/triggers/checked").status_code == 404
    for method in ("GET", "DELETE", "PATCH"):
        missing = _call(served, method, "/triggers/nothing", json={})
        assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    assert _call(served, "DELETE", "/triggers/nothing?allowMissing=true").json()["done"] is True
    bad = _call(served, "PATCH", "/triggers/nothing?updateMask=uid", json={})
    assert bad.status_code == 404
    assert _call(served, "GET", "/operations/none").status_code == 404
    assert _call(served, "POST", "/triggers?triggerId=x", content=b"{").json()["error"]["status"] == (
        "INVALID_ARGUMENT"
    )
    made = _call(served, "POST", "/triggers?triggerId=op", json=body).json()
    assert _call(served, "GET", "/operations/" + made["name"].rsplit("/", 1)[1]).json() == made
    refused = _call(served, "PATCH", "/triggers/op?updateMask=uid", json={})
    assert refused.status_code == 400 and "'uid' cannot be updated" in refused.json()["error"]["message"]
    assert _call(served, "DELETE", "/triggers/op").is_success
