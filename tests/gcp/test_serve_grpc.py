"""``stepdance serve`` serves the Workflows Executions API: the official client starts the order saga's
Cloud Workflows design as a user would, and the order goes through the real services over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

grpc = pytest.importorskip("grpc", reason="grpcio is not installed (pip install 'stepdance[gcp]')")
pytest.importorskip(
    "google.cloud.workflows.executions_v1",
    reason="google-cloud-workflows is not installed (pip install 'stepdance[gcp]')",
)

from google.cloud.workflows.executions_v1 import ExecutionsClient  # noqa: E402
from google.cloud.workflows.executions_v1.services.executions.transports import (  # noqa: E402
    ExecutionsGrpcTransport,
)
from google.cloud.workflows.executions_v1.types import Execution  # noqa: E402

from tests.api.served import eventually, serving  # noqa: E402

pytestmark = pytest.mark.timeout(120)

WORKFLOW = "projects/local/locations/us-central1/workflows/stepdance-order-saga-workflows"


def test_the_official_client_runs_the_order_saga_workflow_through_stepdance_serve(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        assert served.grpc is not None, "serve did not say where the Executions API listens"
        channel = grpc.insecure_channel(served.grpc)
        client = ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
        try:
            execution = client.create_execution(
                parent=WORKFLOW, execution={"argument": json.dumps({"orderId": "grpc-1"})}
            )
            assert execution.name.startswith(WORKFLOW + "/executions/")

            def ended() -> Execution | None:
                found = client.get_execution(name=execution.name)
                return found if found.state != Execution.State.ACTIVE else None

            done = eventually(ended, seconds=60)
            assert done.state == Execution.State.SUCCEEDED, done.error
            assert json.loads(done.result) == {
                "orderId": "grpc-1",
                "status": "completed",
                "messageId": json.loads(done.result)["messageId"],
            }
            listed = list(client.list_executions(parent=WORKFLOW))
            assert [e.name for e in listed] == [execution.name]
        finally:
            channel.close()
        record = served.orders_record("grpc-1")
        assert record is not None and (record["design"], record["status"]) == ("workflows", "completed")


def test_pub_sub_under_stepdance_serve_keeps_topics_subscriptions_and_messages_across_a_restart(
    tmp_path: Path,
) -> None:
    pubsub_v1 = pytest.importorskip("google.cloud.pubsub_v1", reason="google-cloud-pubsub is not installed")
    topic, sub = "projects/local/topics/orders", "projects/local/subscriptions/billing"
    with serving(tmp_path) as served:
        assert served.pubsub is not None, "serve did not say where Pub/Sub listens"
        os.environ["PUBSUB_EMULATOR_HOST"] = served.pubsub
        try:
            publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
            publisher.create_topic(name=topic)
            subscriber.create_subscription(name=sub, topic=topic)
            sent = publisher.publish(topic, b"kept", kind="OrderPlaced").result(timeout=20)
        finally:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
    with serving(tmp_path) as served:  # the same data directory: the catalog and the bus's log
        assert served.pubsub is not None
        os.environ["PUBSUB_EMULATOR_HOST"] = served.pubsub
        try:
            subscriber = pubsub_v1.SubscriberClient()
            assert subscriber.get_subscription(subscription=sub).topic == topic
            got = eventually(lambda: subscriber.pull(subscription=sub, max_messages=1).received_messages)
            (message,) = got
            assert (message.message.message_id, message.message.data) == (sent, b"kept")
            assert dict(message.message.attributes) == {"kind": "OrderPlaced"}
            subscriber.acknowledge(subscription=sub, ack_ids=[message.ack_id])
        finally:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
