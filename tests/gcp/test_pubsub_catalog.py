"""Pub/Sub's topics and subscriptions in the bus catalog's database, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stepdance.bus.catalog import open_catalog
from stepdance.gcp.pubsub_catalog import PubSubCatalog, SubscriptionRecord, TopicRecord
from stepdance.gcp.pubsub_names import DELETED_TOPIC
from tests.order.conftest import drop_schemas
from tests.store.backends import POSTGRES, postgres_reachable

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pubsub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PubSubCatalog]:
    if request.param == "sqlite":
        catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
        schema = None
    else:
        if not postgres_reachable():
            pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
        schema = f"sd_ps_{uuid.uuid4().hex[:8]}"
        catalog = open_catalog(f"{POSTGRES}?schema={schema}")
    try:
        yield PubSubCatalog(catalog)
    finally:
        catalog.close()
        if schema:
            drop_schemas(schema)


def test_topics_are_created_once_listed_by_project_in_pages_and_deleted(pubsub: PubSubCatalog) -> None:
    names = [f"projects/p/topics/t{i}" for i in range(5)]
    for name in names:
        assert pubsub.create_topic(TopicRecord(name, "{}", 1.0))
    assert not pubsub.create_topic(TopicRecord(names[0], '{"a": "b"}', 2.0))
    assert pubsub.get_topic(names[0]) == TopicRecord(names[0], "{}", 1.0)
    pubsub.create_topic(TopicRecord("projects/other/topics/t0", "{}", 1.0))
    first = pubsub.list_topics("p", None, 3)
    rest = pubsub.list_topics("p", first[-1].name, 3)
    assert [t.name for t in first + rest] == names
    assert pubsub.delete_topic(names[0]) and not pubsub.delete_topic(names[0])
    assert pubsub.get_topic(names[0]) is None


def test_a_deleted_topic_leaves_its_subscriptions_detached(pubsub: PubSubCatalog) -> None:
    topic = "projects/p/topics/orders"
    pubsub.create_topic(TopicRecord(topic, "{}", 1.0))
    record = SubscriptionRecord("projects/p/subscriptions/billing", topic, '{"ackDeadlineSeconds": 10}', 1.0)
    assert pubsub.create_subscription(record) and not pubsub.create_subscription(record)
    assert [s.name for s in pubsub.topic_subscriptions(topic)] == [record.name]
    assert pubsub.update_subscription(record.name, '{"ackDeadlineSeconds": 30}')
    pubsub.delete_topic(topic)
    found = pubsub.get_subscription(record.name)
    assert found is not None and (found.topic, found.settings) == (
        DELETED_TOPIC,
        '{"ackDeadlineSeconds": 30}',
    )
    assert [s.name for s in pubsub.list_subscriptions("p", None, 10)] == [record.name]
    assert pubsub.delete_subscription(record.name) and pubsub.all_subscriptions() == []
