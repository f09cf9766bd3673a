"""Pub/Sub resource names, and the one error every Pub/Sub rule raises.

A topic is ``projects/{project}/topics/{topic}`` and a subscription ``projects/{project}/subscriptions/{sub}``.
Their ids follow Google's resource name rules: 3 to 255 characters, a letter first, then only letters, digits and
``-_.~+%``, and never a ``goog`` prefix (case-sensitive: Google's emulator accepts ``GoogTopic``). The project
segment is taken as given, as the Workflows API does: one stepdance is one project, whatever the caller calls it.

Messages are worded as Pub/Sub words them (``Invalid [topics] name: (name=...)``, ``Resource not found
(resource=...).``) so a client's error handling written against Google works unchanged here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stepdance.gcp.status import GoogleApiError

TOPIC_FORMAT = "projects/{project}/topics/{topic}"
SUBSCRIPTION_FORMAT = "projects/{project}/subscriptions/{subscription}"
# What Pub/Sub shows as a subscription's topic once that topic is deleted.
DELETED_TOPIC = "_deleted-topic_"

_ID = re.compile(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
_PROJECT = re.compile(r"projects/([^/]+)")


class PubSubError(GoogleApiError):
    """An answer of Pub/Sub other than OK."""


def invalid(message: str) -> PubSubError:
    return PubSubError("INVALID_ARGUMENT", message)


@dataclass(frozen=True, slots=True)
class TopicName:
    project: str
    topic: str

    @property
    def resource(self) -> str:
        return TOPIC_FORMAT.format(project=self.project, topic=self.topic)

    @property
    def id(self) -> str:
        return self.topic


@dataclass(frozen=True, slots=True)
class SubscriptionName:
    project: str
    subscription: str

    @property
    def resource(self) -> str:
        return SUBSCRIPTION_FORMAT.format(project=self.project, subscription=self.subscription)

    @property
    def id(self) -> str:
        return self.subscription


def is_valid_id(text: str) -> bool:
    """Whether ``text`` is a topic or subscription id Pub/Sub accepts."""
    return _ID.fullmatch(text) is not None and not text.startswith("goog")


def parse_topic(text: str) -> TopicName:
    project, topic = _parse("topics", text)
    return TopicName(project, topic)


def parse_subscription(text: str) -> SubscriptionName:
    project, subscription = _parse("subscriptions", text)
    return SubscriptionName(project, subscription)


def parse_project(text: str) -> str:
    """The project of a List call's ``projects/{project}``."""
    found = _PROJECT.fullmatch(text)
    if found is None:
        raise invalid(f"Invalid [projects] name: (name={text})")
    return found.group(1)


def _parse(collection: str, text: str) -> tuple[str, str]:
    # Pub/Sub answers a malformed path and a bad id alike, naming the collection it expected.
    project, slash, rest = text.removeprefix("projects/").partition("/")
    prefix, _, resource_id = rest.partition("/")
    well_formed = text.startswith("projects/") and slash and project and prefix == collection
    if not well_formed or not is_valid_id(resource_id):
        raise invalid(f"Invalid [{collection}] name: (name={text})")
    return project, resource_id


def not_found(name: TopicName | SubscriptionName) -> PubSubError:
    # Pub/Sub names the short id, not the full path: ``Resource not found (resource=orders).``
    return PubSubError("NOT_FOUND", f"Resource not found (resource={name.id}).")


def already_exists(name: TopicName | SubscriptionName) -> PubSubError:
    return PubSubError("ALREADY_EXISTS", f"Resource already exists in the project (resource={name.id}).")
