"""Pub/Sub's pure rules: names, publish limits, message ids, filters, ack ids, subscription settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from google.pubsub_v1 import types
from hypothesis import given
from hypothesis import strategies as st

from stepdance.gcp.pubsub_config import (
    DeadLetterPolicy,
    PushConfig,
    RetryPolicy,
    SubscriptionConfig,
    from_proto,
    to_proto,
    update,
)
from stepdance.gcp.pubsub_model import (
    PubSubError,
    ack_id,
    check_ack_ids,
    check_publish,
    modify_ack_deadline,
    parse_ack_id,
    parse_filter,
    stream_ack_deadline,
)
from stepdance.gcp.pubsub_names import (
    already_exists,
    is_valid_id,
    not_found,
    parse_project,
    parse_subscription,
    parse_topic,
)
from stepdance.gcp.pubsub_service import policy_of

pytestmark = pytest.mark.timeout(30)

SUB = "projects/p/subscriptions/orders-sub"
TOPIC = "projects/p/topics/orders"
SUBSCRIPTION = "projects/p/subscriptions/billing"
KEY = b"k" * 32


@contextmanager
def raises(code: str, message: str) -> Iterator[None]:
    """The error Pub/Sub answers, code and exact text."""
    with pytest.raises(PubSubError) as caught:
        yield
    assert (caught.value.code, caught.value.message) == (code, message)


# Names ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [TOPIC, "projects/p/topics/abc", "projects/my-proj/topics/Goog", "projects/p/topics/a-_.~+%"]
)
def test_a_valid_topic_name_parses(text: str) -> None:
    name = parse_topic(text)
    assert name.resource == text
    assert (name.project, name.id) == (text.split("/")[1], text.split("/")[3])


@pytest.mark.parametrize(
    "text",
    [
        "projects/p/topics/1bad",  # a digit first
        "projects/p/topics/ab",  # too short
        "projects/p/topics/" + "a" * 256,  # too long
        "projects/p/topics/googles",  # Google's prefix
        "projects/p/topics/a b c",  # a space
        "projects/p/topics/",  # no id
        "projects//topics/abc",  # no project
        "projects/p/subscriptions/abc",  # another collection
        "projects/p/topics/abc/extra",
        "topics/abc",
        "",
    ],
)
def test_an_invalid_topic_name_is_refused_naming_the_collection(text: str) -> None:
    with raises("INVALID_ARGUMENT", f"Invalid [topics] name: (name={text})"):
        parse_topic(text)


def test_subscription_and_project_names() -> None:
    assert parse_subscription(SUB).id == "orders-sub"
    assert parse_project("projects/p") == "p"
    with raises("INVALID_ARGUMENT", "Invalid [subscriptions] name: (name=projects/p/topics/orders)"):
        parse_subscription(TOPIC)
    with raises("INVALID_ARGUMENT", "Invalid [projects] name: (name=p)"):
        parse_project("p")


def test_missing_and_duplicate_resources_name_the_short_id() -> None:
    assert not_found(parse_topic(TOPIC)).message == "Resource not found (resource=orders)."
    assert not_found(parse_topic(TOPIC)).code == "NOT_FOUND"
    error = already_exists(parse_subscription(SUB))
    assert (error.code, error.message) == (
        "ALREADY_EXISTS",
        "Resource already exists in the project (resource=orders-sub).",
    )


valid_ids = st.from_regex(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}", fullmatch=True).filter(
    lambda text: not text.startswith("goog")
)


@given(valid_ids)
def test_every_id_of_the_documented_shape_is_accepted(topic_id: str) -> None:
    assert parse_topic(f"projects/p/topics/{topic_id}").id == topic_id


@given(
    st.one_of(
        st.from_regex(r"[^A-Za-z][A-Za-z0-9]{2,20}", fullmatch=True),  # not a letter first
        st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,1}", fullmatch=True),  # too short
        st.from_regex(r"[A-Za-z]{256,300}", fullmatch=True),  # too long
        st.from_regex(r"goog[A-Za-z0-9]{0,20}", fullmatch=True),  # reserved
        st.from_regex(r"[A-Za-z]{3,10}[^A-Za-z0-9\-_.~+%][A-Za-z]{0,10}", fullmatch=True),  # a bad character
    )
)
def test_every_id_outside_the_documented_shape_is_refused(topic_id: str) -> None:
    assert not is_valid_id(topic_id)
    with pytest.raises(PubSubError, match=r"Invalid \[topics\] name"):
        parse_topic(f"projects/p/topics/{topic_id}")


# Publish --------------------------------------------------------------------------------------------------------


@dataclass
class Msg:
    data: bytes = b"x"
    attributes: dict[str, str] = field(default_factory=dict)
    ordering_key: str = ""


def too(field_name: str, value: int, side: str, bound: int) -> str:
    limit = "minimum" if side == "small" else "maximum"
    return f"The value for {field_name} is too {side}. You passed {value} in the request, but the {limit} value is {bound}."


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], too("message_count", 0, "small", 1)),
        ([Msg()] * 1001, too("message_count", 1001, "large", 1000)),
        ([Msg(), Msg(data=b"")], "Some messages are empty"),
        ([Msg(data=b"", ordering_key="k")], "Some messages are empty"),
        ([Msg(attributes={str(i): "v" for i in range(101)})], too("attributes count", 101, "large", 100)),
        ([Msg(attributes={"k" * 257: "v"})], too("attribute key", 257, "large", 256)),
        ([Msg(attributes={"k": "é" * 513})], too("attribute value", 1026, "large", 1024)),
        (
            [Msg(attributes={"goog_x": "v"})],
            "Message attribute keys must not start with 'goog' (key=goog_x).",
        ),
        ([Msg(attributes={"": "v"})], "Message attribute keys must not be empty."),
        ([Msg(ordering_key="k" * 1025)], too("ordering_key", 1025, "large", 1024)),
        (
            [Msg(ordering_key="a"), Msg(ordering_key="b")],
            "All messages in a PublishRequest must specify the same ordering_key.",
        ),
        ([Msg(data=b"x" * 5_000_000)] * 2, too("request_size", 10_000_000 + len(TOPIC), "large", 10_000_000)),
    ],
)
def test_publish_refusals(messages: list[Msg], message: str) -> None:
    with raises("INVALID_ARGUMENT", message):
        check_publish(TOPIC, messages)


@pytest.mark.parametrize(
    "messages",
    [
        [Msg()],
        [Msg(data=b"", attributes={"a": "b"})],
        [Msg()] * 1000,
        [Msg(attributes={str(i): "v" * 1024 for i in range(100)}, ordering_key="k" * 1024)],
        [Msg(attributes={"k" * 256: "v", "Goog": "upper case is not Google's"})],
        [Msg(attributes={"googclient_traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})],
        [types.PubsubMessage(data=b"proto", attributes={"a": "b"}, ordering_key="o")],
    ],
)
def test_publishes_within_the_limits_pass(messages: list[Msg]) -> None:
    check_publish(TOPIC, messages)


# Ack ids and deadlines ------------------------------------------------------------------------------------------


@given(valid_ids, st.text(max_size=64))
def test_an_ack_id_round_trips_and_is_url_safe(subscription_id: str, token: str) -> None:
    subscription = f"projects/p/subscriptions/{subscription_id}"
    text = ack_id(subscription, token, key=KEY)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert parse_ack_id(text, subscription, key=KEY) == token


@given(st.text(max_size=20), st.integers(min_value=0), st.sampled_from("AQgw_-"))
def test_a_tampered_ack_id_is_refused(token: str, position: int, replacement: str) -> None:
    text = ack_id(SUB, token, key=KEY)
    index = position % len(text)
    forged = text[:index] + replacement + text[index + 1 :]
    if forged != text:
        with raises(
            "INVALID_ARGUMENT", f"You have passed an invalid ack ID to the service (ack_id={forged})."
        ):
            parse_ack_id(forged, SUB, key=KEY)


@pytest.mark.parametrize("text", ["", "garbage", "not an ack id!", "AAAA", "=="])
def test_a_malformed_ack_id_is_refused(text: str) -> None:
    with raises("INVALID_ARGUMENT", f"You have passed an invalid ack ID to the service (ack_id={text})."):
        parse_ack_id(text, SUB, key=KEY)


def test_an_ack_id_from_another_key_or_subscription_is_refused() -> None:
    text = ack_id(SUB, "7", key=KEY)
    with raises("INVALID_ARGUMENT", f"You have passed an invalid ack ID to the service (ack_id={text})."):
        parse_ack_id(text, SUB, key=b"other")
    other = "projects/p/subscriptions/other"
    with raises(
        "INVALID_ARGUMENT",
        f"Subscription {other} received an invalid ack ID {text}, meant for subscription: {SUB}",
    ):
        parse_ack_id(text, other, key=KEY)
    assert parse_ack_id(ack_id(SUB, "7"), SUB) == "7"  # the per-process key by default


def test_ack_requests_and_deadlines() -> None:
    with raises("INVALID_ARGUMENT", "You have not specified an ack ID in the request."):
        check_ack_ids([])
    check_ack_ids(["a"])
    assert [modify_ack_deadline(seconds) for seconds in (0, 10, 600)] == [0, 10, 600]
    with raises(
        "INVALID_ARGUMENT",
        "Invalid ack deadline given (ack_deadline=601). The ack deadline must be between 0 and 600 seconds.",
    ):
        modify_ack_deadline(601)
    with pytest.raises(PubSubError, match="ack_deadline=-1"):
        modify_ack_deadline(-1)
    assert stream_ack_deadline(10) == 10
    with pytest.raises(PubSubError, match="stream_ack_deadline_seconds must be between 10 and 600"):
        stream_ack_deadline(9)


# Filters --------------------------------------------------------------------------------------------------------

ATTRS = {"name": "com", "lang": "en", "iana.org/language_tag": "en-GB"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("attributes:name", True),
        ("attributes:missing", False),
        ("NOT attributes:missing", True),
        ('attributes.name = "com"', True),
        ('attributes.name = "co"', False),
        ('attributes.name != "com"', False),
        ('attributes.missing != "com"', True),  # != is NOT =, so an absent key matches
        ('hasPrefix(attributes.name, "co")', True),
        ('hasPrefix(attributes.missing, "")', False),
        ('NOT hasPrefix(attributes.name, "x")', True),
        ('attributes:name AND attributes.lang = "en"', True),
        ('attributes:name AND attributes.lang = "fr"', False),
        ('attributes:missing OR attributes.lang = "en"', True),
        ('attributes:name AND (attributes:missing OR attributes.lang = "en")', True),
        ("NOT (attributes:name AND attributes:lang)", False),
        ('attributes."iana.org/language_tag" = "en-GB"', True),
        ('attributes:"iana.org/language_tag"', True),
        ("attributes.name = 'com'", True),
        ('attributes.name = "\\x63\\u006f\\155"', True),  # hex, unicode and octal escapes spell "com"
    ],
)
def test_filters_match_attributes(text: str, expected: bool) -> None:
    assert parse_filter(text).matches(ATTRS) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("attributes:a AND attributes:b OR attributes:c", "AND and OR must be grouped with parentheses"),
        ("attributes.a = b", "expected a string literal, got 'b'"),
        ('data = "x"', "expected 'attributes'"),
        ("attributes:", "unexpected end of filter"),
        ("(attributes:a", "unexpected end of filter"),
        ("attributes:a attributes:b", "unexpected 'attributes'"),
        ('attributes.a > "x"', "unexpected character '>'"),
        ('attributes.a = "\\q"', "unknown escape \\q"),
        ("attributes:a and attributes:b", "unexpected 'and'"),  # operators are upper case
        ("attributes:" + "a" * 250, "longer than 256 bytes"),
    ],
)
def test_a_filter_that_does_not_parse_is_refused(text: str, reason: str) -> None:
    with raises("INVALID_ARGUMENT", f"Invalid filter expression: {reason} (filter={text})."):
        parse_filter(text)


# Subscription settings -------------------------------------------------------------------------------------------


def sub(**fields: object) -> types.Subscription:
    return types.Subscription(name=SUB, topic=TOPIC, **fields)


def test_defaults_are_googles() -> None:
    config = from_proto(sub())
    assert config == SubscriptionConfig(name=SUB, topic=TOPIC)
    assert (config.ack_deadline_seconds, config.message_retention_duration) == (10, timedelta(days=7))
    assert (config.retry_policy, config.dead_letter_policy, config.push_config) == (None, None, PushConfig())
    policies = from_proto(
        sub(
            retry_policy=types.RetryPolicy(),
            dead_letter_policy=types.DeadLetterPolicy(dead_letter_topic=TOPIC),
        )
    )
    assert policies.retry_policy == RetryPolicy(timedelta(seconds=10), timedelta(seconds=600))
    assert policies.dead_letter_policy == DeadLetterPolicy(TOPIC, 5)


def test_a_stored_subscription_of_a_deleted_topic_still_reads() -> None:
    assert from_proto(types.Subscription(name=SUB, topic="_deleted-topic_")).topic == "_deleted-topic_"


def seconds_text(value: int) -> str:
    return f"{value}s"


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        (
            {"name": "projects/p/subscriptions/1x"},
            "INVALID_ARGUMENT",
            "Invalid [subscriptions] name: (name=projects/p/subscriptions/1x)",
        ),
        ({"topic": ""}, "INVALID_ARGUMENT", "Invalid [topics] name: (name=)"),
        ({"ack_deadline_seconds": 9}, "INVALID_ARGUMENT", too("ack_deadline_seconds", 9, "small", 10)),
        ({"ack_deadline_seconds": 601}, "INVALID_ARGUMENT", too("ack_deadline_seconds", 601, "large", 600)),
        ({"ack_deadline_seconds": -1}, "INVALID_ARGUMENT", too("ack_deadline_seconds", -1, "small", 10)),
        (
            {"message_retention_duration": timedelta(seconds=599)},
            "INVALID_ARGUMENT",
            "The value for message_retention_duration is too small. You passed 599s in the request, but the minimum value is 600s.",
        ),
        (
            {"message_retention_duration": timedelta(days=7, seconds=1)},
            "INVALID_ARGUMENT",
            "The value for message_retention_duration is too large. You passed 604801s in the request, but the maximum value is 604800s.",
        ),
        (
            {"retry_policy": types.RetryPolicy(minimum_backoff=timedelta(seconds=601))},
            "INVALID_ARGUMENT",
            "The value for retry_policy.minimum_backoff is too large. You passed 601s in the request, but the maximum value is 600s.",
        ),
        (
            {"retry_policy": types.RetryPolicy(maximum_backoff=timedelta(seconds=-1))},
            "INVALID_ARGUMENT",
            "The value for retry_policy.maximum_backoff is too small. You passed -1s in the request, but the minimum value is 0s.",
        ),
        (
            {
                "retry_policy": types.RetryPolicy(
                    minimum_backoff=timedelta(seconds=20), maximum_backoff=timedelta(seconds=1.5)
                )
            },
            "INVALID_ARGUMENT",
            "The value for retry_policy.maximum_backoff is too small. You passed 1.500s in the request, but the minimum value is 20s (retry_policy.minimum_backoff).",
        ),
        (
            {"dead_letter_policy": types.DeadLetterPolicy(dead_letter_topic=TOPIC, max_delivery_attempts=4)},
            "OUT_OF_RANGE",
            too("max_delivery_attempts", 4, "small", 5),
        ),
        (
            {
                "dead_letter_policy": types.DeadLetterPolicy(
                    dead_letter_topic=TOPIC, max_delivery_attempts=101
                )
            },
            "OUT_OF_RANGE",
            too("max_delivery_attempts", 101, "large", 100),
        ),
        (
            {"dead_letter_policy": types.DeadLetterPolicy(dead_letter_topic="dlq")},
            "INVALID_ARGUMENT",
            "Invalid [topics] name: (name=dlq)",
        ),
        *[
            (
                {"push_config": types.PushConfig(push_endpoint=endpoint)},
                "INVALID_ARGUMENT",
                f"Invalid push endpoint given (endpoint={endpoint}). Refer to https://cloud.google.com/pubsub/subscriber#create for more information.",
            )
            for endpoint in ("ftp://host/x", "localhost:8080/push", "https://", "http://[::1/x")
        ],
        (
            {
                "push_config": types.PushConfig(
                    push_endpoint="https://h/x", oidc_token=types.PushConfig.OidcToken()
                )
            },
            "UNIMPLEMENTED",
            "stepdance does not support OIDC tokens on push subscriptions",
        ),
        (
            {"bigquery_config": types.BigQueryConfig(table="p.d.t")},
            "UNIMPLEMENTED",
            "stepdance does not support bigquery_config on subscriptions",
        ),
        (
            {"filter": "attributes"},
            "INVALID_ARGUMENT",
            "Invalid filter expression: unexpected end of filter (filter=attributes).",
        ),
    ],
)
def test_settings_out_of_bounds_are_refused(fields: dict[str, object], code: str, message: str) -> None:
    with raises(code, message):
        from_proto(types.Subscription({"name": SUB, "topic": TOPIC, **fields}))


FULL = SubscriptionConfig(
    name=SUB,
    topic=TOPIC,
    push_config=PushConfig(
        "https://example.com/push", {"x-goog-version": "v1"}, no_wrapper=True, write_metadata=True
    ),
    ack_deadline_seconds=600,
    retain_acked_messages=True,
    message_retention_duration=timedelta(minutes=10),
    labels={"team": "orders"},
    enable_message_ordering=True,
    filter='attributes.kind = "order"',
    dead_letter_policy=DeadLetterPolicy("projects/p/topics/dlq", 100),
    retry_policy=RetryPolicy(timedelta(0), timedelta(seconds=0.5)),
    detached=False,
    enable_exactly_once_delivery=True,
)


@pytest.mark.parametrize(
    "config",
    [
        FULL,
        SubscriptionConfig(name=SUB, topic=TOPIC),
        SubscriptionConfig(name=SUB, topic=TOPIC, push_config=PushConfig("http://127.0.0.1:8080/x")),
    ],
)
def test_settings_round_trip_through_the_proto(config: SubscriptionConfig) -> None:
    proto = to_proto(config)
    assert from_proto(proto) == config
    # And through the wire format, as a gRPC call carries it.
    assert from_proto(types.Subscription.deserialize(types.Subscription.serialize(proto))) == config


def test_the_proto_shows_what_google_shows() -> None:
    proto = to_proto(SubscriptionConfig(name=SUB, topic=TOPIC))
    assert "push_config" in proto  # an empty push config, as Google returns for pull subscriptions
    assert "retry_policy" not in proto and "dead_letter_policy" not in proto
    assert proto.state == types.Subscription.State.ACTIVE
    assert to_proto(FULL).push_config.no_wrapper.write_metadata


# UpdateSubscription -------------------------------------------------------------------------------------------------


def test_an_update_takes_the_masked_fields_only() -> None:
    patch = types.Subscription(ack_deadline_seconds=30, retain_acked_messages=False, labels={"a": "b"})
    updated = update(FULL, patch, ["ack_deadline_seconds", "labels"])
    assert (updated.ack_deadline_seconds, updated.labels, updated.retain_acked_messages) == (
        30,
        {"a": "b"},
        True,
    )


def test_an_update_of_an_unset_field_restores_its_default() -> None:
    updated = update(
        FULL,
        types.Subscription(),
        [
            "ack_deadline_seconds",
            "message_retention_duration",
            "retry_policy",
            "dead_letter_policy",
            "push_config",
        ],
    )
    assert updated.ack_deadline_seconds == 10
    assert updated.message_retention_duration == timedelta(days=7)
    assert (updated.retry_policy, updated.dead_letter_policy, updated.push_config) == (
        None,
        None,
        PushConfig(),
    )
    assert updated.filter == FULL.filter


def test_an_update_is_validated_like_a_creation() -> None:
    with raises("INVALID_ARGUMENT", too("ack_deadline_seconds", 601, "large", 600)):
        update(FULL, types.Subscription(ack_deadline_seconds=601), ["ack_deadline_seconds"])


@pytest.mark.parametrize(
    ("paths", "code", "message"),
    [
        (
            [],
            "INVALID_ARGUMENT",
            "The update_mask in the UpdateSubscriptionRequest must be set, and must contain a non-empty paths list.",
        ),
        *[
            (
                [path],
                "INVALID_ARGUMENT",
                f"Invalid update_mask provided in the UpdateSubscriptionRequest: the {path} field in the Subscription is not mutable.",
            )
            for path in ("topic", "name", "filter", "enable_message_ordering", "detached")
        ],
        (
            ["ackDeadlineSeconds"],
            "INVALID_ARGUMENT",
            "Invalid update_mask provided in the UpdateSubscriptionRequest: ackDeadlineSeconds is not a known "
            "Subscription field. Note that field paths must be of the form 'push_config' rather than 'pushConfig'.",
        ),
        (["expiration_policy"], "UNIMPLEMENTED", "stepdance does not support updating expiration_policy"),
    ],
)
def test_an_update_mask_naming_a_fixed_or_unknown_field_is_refused(
    paths: list[str], code: str, message: str
) -> None:
    with raises(code, message):
        update(FULL, types.Subscription(topic="projects/p/topics/other"), paths)


# Retries and dead letters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "policy", "seconds"),
    [
        (1, None, 0.0),
        (5, None, 0.0),
        (1, RetryPolicy(), 10.0),
        (2, RetryPolicy(), 20.0),
        (3, RetryPolicy(), 40.0),
        (6, RetryPolicy(), 320.0),
        (7, RetryPolicy(), 600.0),
        (10_000, RetryPolicy(), 600.0),
        (1, RetryPolicy(timedelta(seconds=1), timedelta(seconds=3)), 1.0),
        (3, RetryPolicy(timedelta(seconds=1), timedelta(seconds=3)), 3.0),
        (4, RetryPolicy(timedelta(0), timedelta(seconds=600)), 0.0),
        (2, RetryPolicy(timedelta(seconds=7), timedelta(seconds=7)), 7.0),
    ],
)
def test_backoff_doubles_from_the_minimum_up_to_the_maximum(
    attempt: int, policy: RetryPolicy | None, seconds: float
) -> None:
    settings = SubscriptionConfig(SUBSCRIPTION, TOPIC, retry_policy=policy)
    assert policy_of(settings).backoff(attempt) == seconds


def test_the_brokers_policy_takes_the_dead_letter_settings() -> None:
    policy = policy_of(SubscriptionConfig(SUBSCRIPTION, TOPIC, dead_letter_policy=DeadLetterPolicy(TOPIC, 7)))
    assert (policy.dead_letter_topic, policy.max_delivery_attempts) == (TOPIC, 7)
    assert policy_of(SubscriptionConfig(SUBSCRIPTION, TOPIC)).dead_letter_topic is None
