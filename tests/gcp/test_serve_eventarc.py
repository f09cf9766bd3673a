"""``stepdance serve --triggers``: the choreographed saga's own events reach a real HTTP receiver as
CloudEvents through Eventarc triggers; the ``stepdance triggers`` commands manage them on what serve keeps;
a bad trigger file stops serve before anything is stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from stepdance.bus.cloudevents import from_http
from stepdance.cli.main import app
from tests.api.served import eventually, serving
from tests.bus.test_targets import Endpoint, endpoint

__all__ = ["endpoint"]
pytestmark = pytest.mark.timeout(120)
CHANNEL = "projects/shop/locations/us-central1/channels/stepdance-choreographed"


def _triggers(url: str) -> dict[str, Any]:
    return {
        "triggers": [
            {
                "name": "projects/shop/locations/us-central1/triggers/reserved",
                "channel": CHANNEL,
                "eventFilters": [
                    {"attribute": "type", "value": "StockReserved"},
                    {"attribute": "source", "value": "stepdance.inventory"},
                ],
                "destination": {"httpEndpoint": {"uri": url + "/reserved"}},
            },
            {
                "name": "eu-orders",
                "channel": CHANNEL,
                "eventFilters": [
                    {"attribute": "type", "value": "OrderPlaced"},
                    {"attribute": "subject", "value": "eu-*", "operator": "match-path-pattern"},
                ],
                "destination": url + "/eu",
                "contentMode": "structured",
            },
        ]
    }


def _put(events: Any, order_id: str) -> None:
    detail = json.dumps({"orderId": order_id})
    answer = events.put_events(
        Entries=[
            {"Source": "orders", "DetailType": "OrderCreated", "Detail": detail, "EventBusName": "default"}
        ]
    )
    assert answer["FailedEntryCount"] == 0


def test_the_sagas_events_reach_an_http_receiver_as_cloudevents(tmp_path: Path, endpoint: Endpoint) -> None:
    base = endpoint.url.removesuffix("/hook")
    file = tmp_path / "triggers.json"
    file.write_text(json.dumps(_triggers(base)))
    with serving(tmp_path / "data", "--triggers", str(file)) as served:
        events = served.client("events")
        _put(events, "eu-1")
        _put(events, "us-2")
        eventually(lambda: len(endpoint.requests) >= 3)
        by_subject = {}
        for headers, body in endpoint.requests:
            cloud = from_http(headers, body)
            by_subject.setdefault(cloud.subject, []).append((cloud, headers))
        assert sorted(by_subject) == ["eu-1", "us-2"]
        kinds = sorted((c.subject, c.type) for c, _ in (x for each in by_subject.values() for x in each))
        assert kinds == [("eu-1", "OrderPlaced"), ("eu-1", "StockReserved"), ("us-2", "StockReserved")]
        reserved, headers = next(x for x in by_subject["us-2"] if x[0].type == "StockReserved")
        assert headers["ce-source"] == "stepdance.inventory" and reserved.data["order"]["orderId"] == "us-2"
        assert reserved.extensions["eventbus"] == "stepdance-choreographed"
        assert reserved.extensions["correlationid"] and reserved.extensions["traceparent"].startswith("00-")
        page = httpx.get(f"{served.url}/dashboard/triggers", timeout=10)
        assert page.status_code == 200
        assert "eu-orders" in page.text and "subject matches eu-*" in page.text
        assert "projects/shop/locations/us-central1/triggers/reserved" in page.text
        placed, headers = next(x for x in by_subject["eu-1"] if x[0].type == "OrderPlaced")
        assert placed.data["order"]["orderId"] == "eu-1"
        assert headers["content-type"].startswith("application/cloudevents+json")
    # what serve kept, as the commands see it afterwards
    data = ["--data-dir", str(tmp_path / "data")]
    listed = CliRunner().invoke(app, ["triggers", "list", "--json", *data])
    assert listed.exit_code == 0, listed.output
    assert [t["name"] for t in json.loads(listed.stdout)["triggers"]] == [
        "eu-orders",
        "projects/shop/locations/us-central1/triggers/reserved",
    ]
    deleted = CliRunner().invoke(app, ["triggers", "delete", "eu-orders", *data])
    assert deleted.exit_code == 0 and "deleted trigger eu-orders" in deleted.output
    again = CliRunner().invoke(app, ["triggers", "delete", "eu-orders", *data])
    assert again.exit_code == 1 and "Trigger eu-orders not found." in again.output


def test_an_event_a_trigger_could_not_deliver_is_delivered_after_serve_restarts(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    endpoint.statuses = [503] * 1000  # the receiver is down until the test says otherwise
    document = _triggers(endpoint.url.removesuffix("/hook"))["triggers"][0]
    document["retryPolicy"] = {"maxAttempts": 100, "minBackoff": "0.1s", "maxBackoff": "0.5s"}
    file = tmp_path / "triggers.json"
    file.write_text(json.dumps(document))
    quick = {"STEPDANCE_ACK_WAIT_SECONDS": "2"}  # a delivery cut off by the stop comes back soon after
    with serving(tmp_path / "data", "--triggers", str(file), env=quick) as served:
        _put(served.client("events"), "kept-1")
        eventually(lambda: endpoint.requests)  # tried, refused, and not yet given up
    refused = len(endpoint.requests)
    endpoint.statuses = []
    with serving(
        tmp_path / "data", env=quick
    ):  # no --triggers: the trigger and the undelivered event were kept
        eventually(lambda: len(endpoint.requests) > refused)
        cloud = from_http(*endpoint.requests[-1])
    assert (cloud.type, cloud.subject) == ("StockReserved", "kept-1")
    assert {from_http(*request).id for request in endpoint.requests} == {cloud.id}


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"triggers": [', "line 1: Expecting value"),
        ('{"triggers": [{"name": "x"}]}', "/triggers/0/eventFilters: required"),
        (
            json.dumps({**_triggers("http://127.0.0.1:9")["triggers"][1], "channel": "nowhere"}),
            ": /channel: there is no event bus 'nowhere'",
        ),
    ],
)
def test_a_bad_trigger_file_stops_serve_with_the_place_named(tmp_path: Path, content: str, said: str) -> None:
    file = tmp_path / "triggers.json"
    file.write_text(content)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "stepdance.cli", "serve", "--port", "0", "--grpc-port", "-1"),
            *("--pubsub-port", "-1", "--triggers", str(file)),
        ],
        env={"STEPDANCE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and str(file) in done.stderr and "Traceback" not in done.stderr


def test_the_apply_command_names_the_file_and_pointer_and_changes_nothing(tmp_path: Path) -> None:
    good = _triggers("http://127.0.0.1:9")["triggers"][1] | {"channel": None}
    file = tmp_path / "triggers.yaml"
    file.write_text(json.dumps([good, {**good, "name": "second", "retryPolicy": {"maxAttempts": 0}}]))
    data = ["--data-dir", str(tmp_path / "data")]
    done = CliRunner().invoke(app, ["triggers", "apply", str(file), *data])
    assert done.exit_code == 1
    assert f"{file}: /1/retryPolicy/maxAttempts: 0 is not from 1 to 100" in done.output
    listed = CliRunner().invoke(app, ["triggers", "list", "--json", *data])
    assert json.loads(listed.stdout) == {"triggers": []}
    applied = CliRunner().invoke(app, ["triggers", "apply", str(file.with_name("nothing.yaml")), *data])
    assert applied.exit_code == 1 and "cannot read it" in applied.output
