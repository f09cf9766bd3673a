"""Pub/Sub's topics and subscriptions, kept in the bus catalog's database (SQLite or PostgreSQL) beside the
bus's own tables, so they outlive the server that serves them.

A topic is its resource name and labels; a subscription its resource name, its topic and its settings,
stored as the JSON of the ``Subscription`` message the client sent (so nothing of it is lost, whatever this
server acts on). Deleting a topic leaves its subscriptions attached to ``_deleted-topic_``, as Pub/Sub
does: they keep what they hold and get nothing new. Methods are synchronous (callers run them in a thread);
"not found" is ``None`` or ``False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, select, update

from stepdance.bus.catalog import Catalog
from stepdance.gcp.pubsub_names import DELETED_TOPIC
from stepdance.store.sql.engine import mapped


@dataclass(frozen=True, slots=True)
class TopicRecord:
    name: str
    labels: str  # JSON object
    created: float


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    name: str
    topic: str
    settings: str  # the Subscription message as JSON
    created: float


class PubSubCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self.writer, self.reader = catalog.writer, catalog.reader
        metadata = MetaData(schema=catalog.metadata.schema)
        prefix = catalog.t["buses"].name.removesuffix("buses")
        self.topics = Table(
            f"{prefix}pubsub_topics",
            metadata,
            Column("name", String(300), primary_key=True),
            Column("labels", Text, nullable=False),
            Column("created", Float, nullable=False),
        )
        self.subscriptions = Table(
            f"{prefix}pubsub_subscriptions",
            metadata,
            Column("name", String(300), primary_key=True),
            Column("topic", String(300), nullable=False, index=True),
            Column("settings", Text, nullable=False),
            Column("created", Float, nullable=False),
        )
        with mapped(), self.writer.begin() as conn:
            metadata.create_all(conn, checkfirst=True)

    # ------------------------------------------------------------------ topics

    def create_topic(self, record: TopicRecord) -> bool:
        """False when the topic exists."""
        with mapped(), self.writer.begin() as conn:
            if conn.execute(select(self.topics.c.name).where(self.topics.c.name == record.name)).first():
                return False
            conn.execute(
                self.topics.insert().values(name=record.name, labels=record.labels, created=record.created)
            )
            return True

    def get_topic(self, name: str) -> TopicRecord | None:
        with mapped(), self.reader.connect() as conn:
            row = conn.execute(select(self.topics).where(self.topics.c.name == name)).first()
        return _topic(row) if row else None

    def list_topics(self, project: str, after: str | None, limit: int) -> list[TopicRecord]:
        return [_topic(row) for row in self._page(self.topics, f"projects/{project}/topics/", after, limit)]

    def delete_topic(self, name: str) -> bool:
        """False when there was no such topic; its subscriptions are detached, not deleted."""
        with mapped(), self.writer.begin() as conn:
            gone = conn.execute(delete(self.topics).where(self.topics.c.name == name)).rowcount
            if gone:
                conn.execute(
                    update(self.subscriptions)
                    .where(self.subscriptions.c.topic == name)
                    .values(topic=DELETED_TOPIC)
                )
            return bool(gone)

    # ------------------------------------------------------------------ subscriptions

    def create_subscription(self, record: SubscriptionRecord) -> bool:
        """False when the subscription exists."""
        with mapped(), self.writer.begin() as conn:
            taken = conn.execute(
                select(self.subscriptions.c.name).where(self.subscriptions.c.name == record.name)
            ).first()
            if taken:
                return False
            conn.execute(
                self.subscriptions.insert().values(
                    name=record.name, topic=record.topic, settings=record.settings, created=record.created
                )
            )
            return True

    def get_subscription(self, name: str) -> SubscriptionRecord | None:
        with mapped(), self.reader.connect() as conn:
            row = conn.execute(select(self.subscriptions).where(self.subscriptions.c.name == name)).first()
        return _subscription(row) if row else None

    def list_subscriptions(self, project: str, after: str | None, limit: int) -> list[SubscriptionRecord]:
        prefix = f"projects/{project}/subscriptions/"
        return [_subscription(row) for row in self._page(self.subscriptions, prefix, after, limit)]

    def topic_subscriptions(self, topic: str) -> list[SubscriptionRecord]:
        with mapped(), self.reader.connect() as conn:
            rows = conn.execute(
                select(self.subscriptions)
                .where(self.subscriptions.c.topic == topic)
                .order_by(self.subscriptions.c.name)
            )
            return [_subscription(row) for row in rows]

    def all_subscriptions(self) -> list[SubscriptionRecord]:
        with mapped(), self.reader.connect() as conn:
            rows = conn.execute(select(self.subscriptions).order_by(self.subscriptions.c.name))
            return [_subscription(row) for row in rows]

    def update_subscription(self, name: str, settings: str) -> bool:
        with mapped(), self.writer.begin() as conn:
            changed = conn.execute(
                update(self.subscriptions).where(self.subscriptions.c.name == name).values(settings=settings)
            ).rowcount
            return bool(changed)

    def delete_subscription(self, name: str) -> bool:
        with mapped(), self.writer.begin() as conn:
            gone = conn.execute(delete(self.subscriptions).where(self.subscriptions.c.name == name)).rowcount
            return bool(gone)

    def _page(self, table: Table, prefix: str, after: str | None, limit: int) -> list[Any]:
        query = select(table).where(table.c.name.startswith(prefix, autoescape=True))
        if after:
            query = query.where(table.c.name > after)
        with mapped(), self.reader.connect() as conn:
            return list(conn.execute(query.order_by(table.c.name).limit(limit)))


def _topic(row: Any) -> TopicRecord:
    return TopicRecord(row.name, row.labels, row.created)


def _subscription(row: Any) -> SubscriptionRecord:
    return SubscriptionRecord(row.name, row.topic, row.settings, row.created)
